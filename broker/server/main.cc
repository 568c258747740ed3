// sluice-broker: serves SQS-style queues over ZeroMQ and over SQS's own HTTP
// protocols, and exports Prometheus metrics. See README.md, docs/protocol.md
// and docs/http-api.md.
#include <prometheus/exposer.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <random>

#include "broker/engine/engine.h"
#include "broker/engine/limits.h"
#include "broker/http/http_listener.h"
#include "broker/http/http_metrics.h"
#include "broker/server/metrics.h"
#include "broker/server/server.h"
#include "broker/storage/data_dir.h"
#include "broker/storage/storage.h"
#include "common/clock.h"
#include "common/credentials.h"
#include "common/logging.h"
#include "common/metrics_server.h"

namespace {

// Each HTTP connection is a descriptor: take as many as the hard limit allows.
void RaiseDescriptorLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// Exit codes: 0 after a clean shutdown, 2 for bad flags, 1 when the broker
// cannot start (port in use, data directory locked, store corrupt, ...), 3
// when a write to the store failed and the broker stopped to stay consistent.
constexpr int kExitCannotStart = 1;
constexpr int kExitStorageFailed = 3;

// The secret in `path`: its first line, without surrounding white space, as
// a Kubernetes Secret mounts it. An error when it is unreadable or empty.
sluice::Result<std::string> ReadToken(const std::string& path) {
  std::ifstream in(path);
  std::string token;
  if (!in || !std::getline(in, token)) {
    return sluice::Status(sluice::StatusCode::kInvalidParameterValue,
                          "--s3-events-token-file: cannot read " + path);
  }
  const size_t begin = token.find_first_not_of(" \t\r");
  const size_t end = token.find_last_not_of(" \t\r");
  token = begin == std::string::npos ? "" : token.substr(begin, end - begin + 1);
  if (token.size() < 16) {
    return sluice::Status(
        sluice::StatusCode::kInvalidParameterValue,
        "--s3-events-token-file: the token in " + path + " is shorter than 16 characters");
  }
  return token;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sluice-broker: SQS-style message queues over ZeroMQ"};
  std::string listen = "tcp://127.0.0.1:7400";
  std::string http_listen = "127.0.0.1:9324";
  sluice::http::HttpOptions http_options;
  std::string credentials_file;
  std::string s3_events_token_file;
  std::string region = "us-east-1";
  std::string metrics_listen = "127.0.0.1:9400";
  std::string data_dir = "./sluice-data";
  int max_inflight = sluice::limits::kDefaultInflightLimit;
  std::string log_level = "info";
  std::string fsync = "always";
  uint64_t reserve_disk_mb = 256;
  app.add_option("--listen", listen, "ZeroMQ endpoint to serve on")->capture_default_str();
  app.add_option("--http-listen", http_listen,
                 "HOST:PORT for SQS's HTTP protocols (query and JSON), so AWS SDKs and the aws "
                 "CLI are clients; empty: off")
      ->capture_default_str();
  app.add_option("--http-public-url", http_options.public_url,
                 "http://HOST:PORT that queue URLs start with (default: each request's Host)");
  app.add_option("--account-id", http_options.account_id, "the account id in queue URLs and ARNs")
      ->capture_default_str();
  app.add_option("--region", region, "the region in queue ARNs")->capture_default_str();
  app.add_option("--credentials", credentials_file,
                 "AWS credentials file ([name] sections with aws_access_key_id and "
                 "aws_secret_access_key): HTTP calls must be signed (SigV4) by one of them");
  app.add_option("--s3-events-token-file", s3_events_token_file,
                 "file holding the token that pushers of S3 event notifications (Ceph RGW, "
                 "MinIO) show at POST /s3-events/QUEUE; without it that endpoint is off");
  app.add_option("--http-max-connections", http_options.max_connections,
                 "open HTTP connections at most; more are answered 503")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
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
  if (!credentials_file.empty()) {
    auto credentials = sluice::CredentialStore::Load(credentials_file);
    if (!credentials.ok()) {
      std::fprintf(stderr, "sluice-broker: %s\n", credentials.status().detail().c_str());
      return 2;
    }
    http_options.credentials = std::move(*credentials);
  }
  if (!s3_events_token_file.empty()) {
    auto token = ReadToken(s3_events_token_file);
    if (!token.ok()) {
      std::fprintf(stderr, "sluice-broker: %s\n", token.status().detail().c_str());
      return 2;
    }
    http_options.s3_events_token = std::move(*token);
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
  options.arns = {.region = region, .account_id = http_options.account_id};
  sluice::Engine engine(&clock, options);
  if (sluice::Status s = (*storage)->Recover(&engine); !s.ok()) {
    spdlog::critical("event=start_failed error=\"recovery failed: {}\"", s.ToString());
    return kExitCannotStart;
  }
  sluice::BrokerMetrics metrics(registry);
  // Before the server: connections that its loop still holds at the end
  // count themselves out of these when it is destroyed.
  sluice::http::HttpMetrics http_metrics(registry);
  sluice::Server server(&engine, storage->get(), &clock, &metrics);
  if (sluice::Status s = server.Bind(listen); !s.ok()) {
    spdlog::critical("event=start_failed error=\"{}\"", s.detail());
    return kExitCannotStart;
  }
  RaiseDescriptorLimit();
  const bool signatures_checked = http_options.credentials.has_value();
  std::optional<sluice::http::HttpListener> http;
  if (!http_listen.empty()) {
    http.emplace(
        server.io(), std::move(http_options),
        [&server](sluice::Peer peer, sluice::pb::Request req, sluice::Millis started) {
          server.Submit(std::move(peer), std::move(req), started);
        },
        &http_metrics, &clock);
    if (sluice::Status s = http->Listen(http_listen); !s.ok()) {
      spdlog::critical("event=start_failed error=\"{}\"", s.detail());
      return kExitCannotStart;
    }
    if (!signatures_checked) {
      spdlog::warn(
          "event=http_unauthenticated detail=\"no --credentials: HTTP calls are accepted "
          "whatever their signature\"");
    }
  }

  // SIGINT and SIGTERM stop the loop from within it; Asio's handler wakes it.
  std::atomic<bool> stop{false};
  boost::asio::signal_set signals(server.io(), SIGINT, SIGTERM);
  signals.async_wait([&stop](const boost::system::error_code& ec, int) {
    if (!ec) stop.store(true);
  });
  pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
  spdlog::info(
      "event=started listen={} http={} metrics=http://{}/metrics data_dir={} fsync={} "
      "max_inflight={} signatures={}",
      listen, http_listen.empty() ? "off" : "http://" + http_listen, metrics_listen, (*dir)->path(),
      fsync, max_inflight, signatures_checked ? "checked" : "not_checked");
  sluice::Status run = server.Run(stop);
  if (http) {
    http->Close();
    // Answers handed over at the end are on their way: let them leave.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (http->Writing() && std::chrono::steady_clock::now() < give_up) {
      server.io().run_one_for(std::chrono::milliseconds(50));
    }
  }
  if (sluice::Status s = run; !s.ok()) {
    spdlog::critical("event=stopped error=\"{}\"", s.detail());
    return kExitStorageFailed;
  }
  spdlog::info("event=stopped");
  return 0;
}
