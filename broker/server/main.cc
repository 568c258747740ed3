// sluice-broker: serves SQS-style queues over ZeroMQ and over SQS's own HTTP
// protocols, and exports Prometheus metrics. See README.md, docs/protocol.md
// and docs/http-api.md.
#include <prometheus/exposer.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <boost/asio/signal_set.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <vector>

#include "broker/auth/principals.h"
#include "broker/engine/engine.h"
#include "broker/engine/limits.h"
#include "broker/http/http_listener.h"
#include "broker/http/http_metrics.h"
#include "broker/server/listen_address.h"
#include "broker/server/metrics.h"
#include "broker/server/server.h"
#include "broker/storage/data_dir.h"
#include "broker/storage/storage.h"
#include "common/clock.h"
#include "common/credentials.h"
#include "common/curve_keys.h"
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

// `sluice-broker keygen`: a CURVE key pair, printed as JSON or written to
// two files (the secret one readable by its owner only).
int MakeKeyPair(const std::string& public_file, const std::string& secret_file) {
  auto pair = sluice::NewCurveKeyPair();
  if (!pair.ok()) {
    std::fprintf(stderr, "sluice-broker: %s\n", pair.status().detail().c_str());
    return kExitCannotStart;
  }
  if (public_file.empty()) {
    nlohmann::ordered_json out{{"PublicKey", pair->public_key}, {"SecretKey", pair->secret_key}};
    std::printf("%s\n", out.dump(4).c_str());
    return 0;
  }
  auto write = [](const std::string& path, const std::string& key, mode_t mode) {
    std::FILE* f = std::fopen(path.c_str(), "wx");
    if (f == nullptr) {
      std::fprintf(stderr, "sluice-broker: cannot create %s: %s\n", path.c_str(),
                   std::strerror(errno));
      return false;
    }
    ::fchmod(::fileno(f), mode);
    const bool ok = std::fprintf(f, "%s\n", key.c_str()) > 0;
    return std::fclose(f) == 0 && ok;
  };
  if (!write(secret_file, pair->secret_key, 0600) || !write(public_file, pair->public_key, 0644)) {
    return kExitCannotStart;
  }
  return 0;
}

// Whether the broker may listen where it was told to: anywhere when callers
// must authenticate, else only where nobody but this machine can reach it.
bool ListenersAllowed(const std::string& listen, const std::string& http_listen, bool principals,
                      bool http_signatures, bool insecure) {
  std::vector<std::string> open;
  if (!principals && !sluice::IsLocalZmqEndpoint(listen)) open.push_back("--listen=" + listen);
  if (!principals && !http_signatures && !http_listen.empty() &&
      !sluice::IsLocalHostPort(http_listen)) {
    open.push_back("--http-listen=" + http_listen);
  }
  if (open.empty()) return true;
  std::string which;
  for (const auto& o : open) which += (which.empty() ? "" : " and ") + o;
  if (insecure) {
    spdlog::warn(
        "event=insecure detail=\"serving {} without authentication: anyone who can reach it "
        "can read, delete and purge every queue\"",
        which);
    return true;
  }
  std::fprintf(stderr,
               "sluice-broker: refusing to serve %s without authentication: anyone who can "
               "reach it could read, delete and purge every queue. Give --principals FILE and "
               "--secret-key-file FILE (docs/auth.md), listen on a loopback address, or pass "
               "--insecure to serve it anyway.\n",
               which.c_str());
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sluice-broker: SQS-style message queues over ZeroMQ"};
  std::string listen = "tcp://127.0.0.1:7400";
  std::string http_listen = "127.0.0.1:9324";
  sluice::http::HttpOptions http_options;
  std::string credentials_file;
  std::string principals_file;
  std::string secret_key;
  std::string secret_key_file;
  bool insecure = false;
  sluice::ServerOptions server_options;
  size_t max_queues = sluice::limits::kDefaultMaxQueues;
  int64_t max_body_memory_mb = server_options.max_answer_bytes >> 20;
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
  auto* principals_flag = app.add_option(
      "--principals", principals_file,
      "principals file (JSON, docs/auth.md): who may connect, with which CURVE keys and access "
      "keys, and what each may do; reloaded on SIGHUP. Needs --secret-key-file");
  app.add_option("--credentials", credentials_file,
                 "AWS credentials file ([name] sections with aws_access_key_id and "
                 "aws_secret_access_key): HTTP calls must be signed (SigV4) by one of them, and "
                 "may then do anything (--principals grants per queue)")
      ->excludes(principals_flag);
  auto* secret_key_flag =
      app.add_option("--secret-key", secret_key,
                     "the broker's CURVE secret key (Z85); prefer --secret-key-file")
          ->envname("SLUICE_SECRET_KEY");
  app.add_option("--secret-key-file", secret_key_file,
                 "file holding the broker's CURVE secret key (`sluice-broker keygen`): ZeroMQ "
                 "clients then connect encrypted, with keys the principals file lists")
      ->envname("SLUICE_SECRET_KEY_FILE")
      ->excludes(secret_key_flag);
  app.add_flag("--insecure", insecure,
               "serve a non-loopback address without a principals file: anyone who can reach "
               "the broker may do anything");
  app.add_option("--max-connections", server_options.max_connections,
                 "open ZeroMQ connections at most; more are refused at their handshake")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--max-queues", max_queues, "queues at most; CreateQueue beyond is OverLimit")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("--max-body-memory-mb", max_body_memory_mb,
                 "MiB of answers (message bodies, mostly) held for ZeroMQ clients that have not "
                 "read them; beyond it such clients' receives are OverLimit")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
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
  std::string keygen_public_file;
  std::string keygen_secret_file;
  auto* keygen =
      app.add_subcommand("keygen", "print a new CURVE key pair as JSON, or write it to two files");
  auto* keygen_public = keygen->add_option("--public-key-file", keygen_public_file,
                                           "file to create with the public key");
  auto* keygen_secret = keygen->add_option("--secret-key-file", keygen_secret_file,
                                           "file to create with the secret key (mode 0600)");
  keygen_public->needs(keygen_secret);
  keygen_secret->needs(keygen_public);
  CLI11_PARSE(app, argc, argv);
  if (keygen->parsed()) return MakeKeyPair(keygen_public_file, keygen_secret_file);

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
    http_options.credentials =
        std::make_shared<const sluice::CredentialStore>(std::move(*credentials));
  }
  if (!secret_key_file.empty()) {
    auto key = sluice::ReadCurveKeyFile(secret_key_file, "--secret-key-file");
    if (!key.ok()) {
      std::fprintf(stderr, "sluice-broker: %s\n", key.status().detail().c_str());
      return 2;
    }
    secret_key = std::move(*key);
  } else if (!secret_key.empty() && !sluice::IsCurveKey(secret_key)) {
    std::fprintf(stderr, "sluice-broker: --secret-key is not a CURVE key (40 characters of Z85)\n");
    return 2;
  }
  std::shared_ptr<const sluice::auth::Principals> principals;
  if (!principals_file.empty()) {
    auto loaded = sluice::auth::Principals::Load(principals_file);
    if (!loaded.ok()) {
      std::fprintf(stderr, "sluice-broker: %s\n", loaded.status().detail().c_str());
      return 2;
    }
    principals = std::make_shared<const sluice::auth::Principals>(std::move(*loaded));
    http_options.credentials =
        std::make_shared<const sluice::CredentialStore>(principals->access_keys());
  }
  if (principals != nullptr && secret_key.empty()) {
    std::fprintf(stderr,
                 "sluice-broker: --principals needs the broker's CURVE key: --secret-key-file "
                 "FILE (make one with `sluice-broker keygen`)\n");
    return 2;
  }
  if (principals == nullptr && !secret_key.empty()) {
    std::fprintf(stderr,
                 "sluice-broker: a CURVE key needs --principals FILE, which lists the clients' "
                 "keys\n");
    return 2;
  }
  server_options.curve_secret_key = secret_key;
  server_options.max_answer_bytes = max_body_memory_mb << 20;
  if (!ListenersAllowed(listen, http_listen, principals != nullptr,
                        http_options.credentials != nullptr, insecure)) {
    return 2;
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
  options.max_queues = max_queues;
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
  sluice::Server server(&engine, storage->get(), &clock, &metrics, server_options);
  server.SetPrincipals(principals);
  if (sluice::Status s = server.Bind(listen); !s.ok()) {
    spdlog::critical("event=start_failed error=\"{}\"", s.detail());
    return kExitCannotStart;
  }
  RaiseDescriptorLimit();
  const bool signatures_checked = http_options.credentials != nullptr;
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
  // SIGHUP reloads the principals file; one that does not load leaves the
  // one in force as it is.
  boost::asio::signal_set hangups(server.io(), SIGHUP);
  std::function<void()> await_hangup = [&] {
    hangups.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      await_hangup();
      if (principals_file.empty()) {
        spdlog::info("event=reload_skipped detail=\"no --principals file to reload\"");
        return;
      }
      auto loaded = sluice::auth::Principals::Load(principals_file);
      if (!loaded.ok()) {
        metrics.CountPrincipalsReload("failed");
        spdlog::error(
            "event=principals_reload_failed error=\"{}\" detail=\"the previous "
            "principals stay in force\"",
            loaded.status().detail());
        return;
      }
      auto fresh = std::make_shared<const sluice::auth::Principals>(std::move(*loaded));
      server.SetPrincipals(fresh);
      if (http) {
        http->SetCredentials(std::make_shared<const sluice::CredentialStore>(fresh->access_keys()));
      }
      metrics.CountPrincipalsReload("ok");
      spdlog::info("event=principals_reloaded principals={}", fresh->size());
    });
  };
  await_hangup();
  pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
  spdlog::info(
      "event=started listen={} http={} metrics=http://{}/metrics data_dir={} fsync={} "
      "max_inflight={} signatures={} principals={} curve={}",
      listen, http_listen.empty() ? "off" : "http://" + http_listen, metrics_listen, (*dir)->path(),
      fsync, max_inflight, signatures_checked ? "checked" : "not_checked",
      principals == nullptr ? "off" : std::to_string(principals->size()),
      secret_key.empty() ? "off" : "on");
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
