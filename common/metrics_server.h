// What every long-running Sluice process does at start: keep SIGTERM and
// SIGINT for the one thread that waits for them, and serve Prometheus'
// /metrics from a registry.
#ifndef SLUICE_COMMON_METRICS_SERVER_H_
#define SLUICE_COMMON_METRICS_SERVER_H_

#include <signal.h>

#include <memory>
#include <string>

#include "common/status.h"

namespace prometheus {
class Collectable;
class Exposer;
}  // namespace prometheus

namespace sluice {

// Blocks SIGTERM and SIGINT in the calling thread and every thread it starts
// afterwards (ZeroMQ's, the exposer's, ours), so that only the thread that
// waits for them (sigwait, or a poll it interrupts) takes them. Returns the set.
sigset_t BlockStopSignals();

// Serves `collectable` on http://`listen`/metrics ("HOST:PORT"). The exposer
// holds it weakly: the caller keeps it alive. Fails when the port cannot be
// bound.
Result<std::unique_ptr<prometheus::Exposer>> ServeMetrics(
    const std::string& listen, const std::shared_ptr<prometheus::Collectable>& collectable);

}  // namespace sluice

#endif  // SLUICE_COMMON_METRICS_SERVER_H_
