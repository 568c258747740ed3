// BrokerProcess: the real sluice-broker binary, started for a test on an
// ipc:// endpoint (or loopback TCP) with a fresh data directory and a free
// metrics port, and ready to answer when the constructor returns.
#ifndef SLUICE_TESTS_SUPPORT_BROKER_PROCESS_H_
#define SLUICE_TESTS_SUPPORT_BROKER_PROCESS_H_

#include <memory>
#include <string>
#include <vector>

#include "tests/support/subprocess.h"

namespace sluice::testing {

// Paths of the binaries under test, set by CMake.
std::string BrokerBinary();
std::string ProducerBinary();
std::string WorkerBinary();

// Starts sluice-broker on `endpoint` over `data_dir`, metrics on
// `metrics_port` (0: a free one), and waits until it answers; throws, with
// its stderr, when it does not.
std::unique_ptr<Subprocess> StartBroker(const std::string& endpoint, const std::string& data_dir,
                                        const std::vector<std::string>& extra_args = {},
                                        int metrics_port = 0);

class BrokerProcess {
 public:
  struct Options {
    bool tcp = false;  // listen on 127.0.0.1:<free port> instead of ipc://
    std::vector<std::string> extra_args;
  };

  BrokerProcess() : BrokerProcess(Options{}) {}
  explicit BrokerProcess(Options options);

  const std::string& endpoint() const { return endpoint_; }
  int metrics_port() const { return metrics_port_; }
  Subprocess& process() { return *process_; }

  // The body of GET /metrics, or "" when it cannot be fetched.
  std::string ScrapeMetrics() const;

 private:
  TempDir dir_;
  std::string endpoint_;
  int metrics_port_ = 0;
  std::unique_ptr<Subprocess> process_;
};

// GET http://127.0.0.1:<port><path>; the response body, or "" on failure.
std::string HttpGet(int port, const std::string& path);

// The value of one sample (`series`: name and labels as exposed) in a
// Prometheus text exposition, or -1 when it is not there.
double MetricValue(const std::string& text, const std::string& series);

}  // namespace sluice::testing

#endif  // SLUICE_TESTS_SUPPORT_BROKER_PROCESS_H_
