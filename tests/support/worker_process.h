// WorkerProcess: the real sluice-worker binary, started for a test against a
// broker endpoint and a bucket root, with a free metrics port, and serving
// /metrics when the constructor returns.
#ifndef SLUICE_TESTS_SUPPORT_WORKER_PROCESS_H_
#define SLUICE_TESTS_SUPPORT_WORKER_PROCESS_H_

#include <memory>
#include <string>
#include <vector>

#include "tests/support/broker_process.h"
#include "tests/support/subprocess.h"

namespace sluice::testing {

class WorkerProcess {
 public:
  struct Options {
    std::string endpoint;     // the broker's, e.g. BrokerProcess::endpoint()
    std::string queue_name;   // --queue-name
    std::string bucket_root;  // --bucket-root
    int concurrency = 1;
    int visibility_timeout_seconds = 30;
    int grace_period_seconds = 10;
    std::vector<std::string> extra_args;  // appended to the flags above
  };

  // Starts the worker and waits until its /metrics answers; throws, with its
  // stderr, when it does not.
  explicit WorkerProcess(Options options);

  Subprocess& process() { return *process_; }
  int metrics_port() const { return metrics_port_; }

  // The body of GET /metrics, or "" when it cannot be fetched.
  std::string ScrapeMetrics() const;
  // One sample of /metrics (see MetricValue), or -1.
  double Metric(const std::string& series) const;
  // What the worker logged so far.
  std::string Logs() const { return process_->Stderr() + process_->Stdout(); }

 private:
  int metrics_port_ = 0;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace sluice::testing

#endif  // SLUICE_TESTS_SUPPORT_WORKER_PROCESS_H_
