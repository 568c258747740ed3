#include "tests/support/worker_process.h"

#include <sstream>
#include <stdexcept>

#include "tests/support/broker_process.h"

namespace sluice::testing {

WorkerProcess::WorkerProcess(Options options) : metrics_port_(FreeTcpPort()) {
  std::vector<std::string> argv = {WorkerBinary(),
                                   "--broker",
                                   options.endpoint,
                                   "--queue-name",
                                   options.queue_name,
                                   "--bucket-root",
                                   options.bucket_root,
                                   "--concurrency",
                                   std::to_string(options.concurrency),
                                   "--visibility-timeout",
                                   std::to_string(options.visibility_timeout_seconds),
                                   "--grace-period",
                                   std::to_string(options.grace_period_seconds),
                                   "--metrics-listen",
                                   "127.0.0.1:" + std::to_string(metrics_port_)};
  argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
  process_ = std::make_unique<Subprocess>(argv);
  // The exposer starts before the job threads, and the concurrency gauge is
  // registered with it, so an answer naming it means the flags were accepted.
  const bool ready = WaitFor(
      [&] {
        return process_->Running() &&
               ScrapeMetrics().find("sluice_worker_concurrency") != std::string::npos;
      },
      std::chrono::seconds(30));
  if (!ready) {
    throw std::runtime_error("sluice-worker did not become ready; stderr:\n" + process_->Stderr());
  }
}

std::string WorkerProcess::ScrapeMetrics() const { return HttpGet(metrics_port_, "/metrics"); }

double WorkerProcess::Metric(const std::string& series) const {
  return MetricValue(ScrapeMetrics(), series);
}

}  // namespace sluice::testing
