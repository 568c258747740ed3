// sluice-broker: serves SQS-style queues over ZeroMQ and exports Prometheus
// metrics. See README.md and docs/protocol.md.
#include <prometheus/exposer.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <memory>
#include <random>

#include "broker/engine/engine.h"
#include "broker/engine/limits.h"
#include "broker/server/metrics.h"
#include "broker/server/server.h"
#include "broker/storage/data_dir.h"
#include "broker/storage/storage.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/metrics_server.h"

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

// Exit codes: 0 after a clean shutdown, 2 for bad flags, 1 when the broker
// cannot start (port in use, data directory locked, store corrupt, ...), 3
// when a write to the store failed and the broker stopped to stay consistent.
constexpr int kExitCannotStart = 1;
constexpr int kExitStorageFailed = 3;

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sluice-broker: SQS-style message queues over ZeroMQ"};
  std::string listen = "tcp://127.0.0.1:7400";
  std::string metrics_listen = "127.0.0.1:9400";
  std::string data_dir = "./sluice-data";
  int max_inflight = sluice::limits::kDefaultInflightLimit;
  std::string log_level = "info";
  std::string fsync = "always";
  uint64_t reserve_disk_mb = 256;
  app.add_option("--listen", listen, "ZeroMQ endpoint to serve on")->capture_default_str();
  app.add_option("--metrics-listen", metrics_listen, "HOST:PORT for Prometheus' /metrics")
      ->capture_default_str();
  app.add_option("--data-dir", data_dir, "directory for the broker's data (locked while running)")
      ->capture_default_str();
  app.add_option("--max-inflight", max_inflight, "in-flight messages allowed per queue")
      ->capture_default_str()
      ->check(CLI::Range(1, 100'000'000));
  app.add_option("--fsync", fsync,
                 "always: every answer waits for its fsync; interval: fsync every 50 ms (a "
                 "machine crash loses about that much, plus one loop turn); never: for tests "
                 "and benchmarks")
      ->capture_default_str();
  app.add_option("--reserve-disk-mb", reserve_disk_mb,
                 "free disk space kept for receives and deletes; below it sends are refused")
      ->capture_default_str();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (!sluice::InitLogging("broker", log_level)) {
    std::fprintf(stderr, "sluice-broker: unknown --log-level '%s'\n", log_level.c_str());
    return 2;
  }
  auto fsync_mode = sluice::ParseFsyncMode(fsync);
  if (!fsync_mode.ok()) {
    std::fprintf(stderr, "sluice-broker: %s\n", fsync_mode.status().detail().c_str());
    return 2;
  }
  auto dir = sluice::DataDir::Open(data_dir);
  if (!dir.ok()) {
    spdlog::critical("event=start_failed error=\"{}\"", dir.status().detail());
    return kExitCannotStart;
  }
  auto storage = sluice::Storage::Open(
      (*dir)->path(), {.fsync = *fsync_mode, .reserve_bytes = reserve_disk_mb << 20});
  // Opening and recovering name their failure's kind: a damaged log is
  // reported as "Corruption: <file> at offset <n>: <what>" (docs/storage.md).
  if (!storage.ok()) {
    spdlog::critical("event=start_failed error=\"{}\"", storage.status().ToString());
    return kExitCannotStart;
  }

  // The exposer's and ZeroMQ's threads must not take SIGTERM/SIGINT: the
  // server's poll in this thread has to be interrupted so it stops at once.
  const sigset_t stop_signals = sluice::BlockStopSignals();
  auto registry = std::make_shared<prometheus::Registry>();
  auto exposer = sluice::ServeMetrics(metrics_listen, registry);
  if (!exposer.ok()) {
    spdlog::critical("event=start_failed error=\"{}\"", exposer.status().detail());
    return kExitCannotStart;
  }

  sluice::SystemClock clock;
  sluice::EngineOptions options;
  options.inflight_limit = max_inflight;
  options.seed = std::random_device{}() ^ (static_cast<uint64_t>(std::random_device{}()) << 32);
  options.receipt_secret = (*storage)->receipt_secret();
  options.journal = storage->get();
  sluice::Engine engine(&clock, options);
  if (sluice::Status s = (*storage)->Recover(&engine); !s.ok()) {
    spdlog::critical("event=start_failed error=\"recovery failed: {}\"", s.ToString());
    return kExitCannotStart;
  }
  sluice::BrokerMetrics metrics(registry);
  sluice::Server server(&engine, storage->get(), &clock, &metrics);
  if (sluice::Status s = server.Bind(listen); !s.ok()) {
    spdlog::critical("event=start_failed error=\"{}\"", s.detail());
    return kExitCannotStart;
  }

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
  spdlog::info(
      "event=started listen={} metrics=http://{}/metrics data_dir={} fsync={} max_inflight={}",
      listen, metrics_listen, (*dir)->path(), fsync, max_inflight);
  if (sluice::Status s = server.Run(g_stop); !s.ok()) {
    spdlog::critical("event=stopped error=\"{}\"", s.detail());
    return kExitStorageFailed;
  }
  spdlog::info("event=stopped");
  return 0;
}
