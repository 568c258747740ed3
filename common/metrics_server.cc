#include "common/metrics_server.h"

#include <prometheus/exposer.h>
#include <pthread.h>

namespace sluice {

sigset_t BlockStopSignals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  return stop_signals;
}

Result<std::unique_ptr<prometheus::Exposer>> ServeMetrics(
    const std::string& listen, const std::shared_ptr<prometheus::Collectable>& collectable) {
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>(listen, 1);
  } catch (const std::exception& e) {
    return Status(StatusCode::kIOError, "cannot serve metrics on " + listen + ": " + e.what());
  }
  exposer->RegisterCollectable(collectable);
  return exposer;
}

}  // namespace sluice
