// sluice-worker: pulls resize jobs from a queue, writes the resized images
// into the bucket, and exports Prometheus metrics. See docs/worker.md.
#include <prometheus/exposer.h>
#include <spdlog/fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <memory>

#include "client/client.h"
#include "client/curve_flags.h"
#include "common/logging.h"
#include "common/metrics_server.h"
#include "common/s3/metrics.h"
#include "worker/cores.h"
#include "worker/job_runner.h"
#include "worker/magick.h"
#include "worker/magick_setup.h"
#include "worker/metrics.h"
#include "worker/store/directory_store.h"
#include "worker/store/s3_store.h"
#include "worker/worker.h"

namespace {

// Exit codes: 0 after a drain, 2 for bad flags, 1 when the worker cannot start.
constexpr int kExitCannotStart = 1;
constexpr int kExitUsage = 2;

// Each job's pixel cache; ImageMagick's limit is for the whole process.
constexpr uint64_t kMagickMemoryPerJob = 128ull << 20;
constexpr uint64_t kMagickMemoryBase = 256ull << 20;

}  // namespace

int main(int argc, char** argv) {
  using sluice::worker::JobDefaults;
  CLI::App app{"sluice-worker: resizes the images that jobs on a queue name"};
  std::string broker_flag;
  sluice::worker::WorkerOptions options;
  std::string bucket_root;
  bool s3 = false;
  std::string s3_endpoint;
  bool s3_path_style = false;
  JobDefaults defaults;
  std::string format;
  int grace_seconds = 25;
  int job_timeout_seconds = 120;
  std::string metrics_listen = "127.0.0.1:9401";
  std::string log_level = "info";
  bool strict_decode = false;
  const int cores = sluice::worker::AvailableCores();
  options.concurrency = cores;
  app.add_option("--broker", broker_flag,
                 "broker endpoint, tcp://HOST:PORT (default: $SLUICE_BROKER, else " +
                     std::string(sluice::kDefaultBrokerEndpoint) + ")");
  app.add_option("--queue-name", options.queue_name, "queue to take jobs from")->required();
  auto* root_flag =
      app.add_option("--bucket-root", bucket_root, "directory holding one directory per bucket");
  auto* s3_flag = app.add_flag("--s3", s3,
                               "buckets are S3 buckets (credentials and region from AWS_* "
                               "variables); at AWS unless --s3-endpoint says otherwise");
  auto* endpoint_flag =
      app.add_option("--s3-endpoint", s3_endpoint,
                     "S3-compatible endpoint, http(s)://HOST[:PORT] (RGW, MinIO); implies --s3");
  app.add_flag("--s3-path-style", s3_path_style,
               "address S3 as http://HOST/BUCKET/KEY instead of http://BUCKET.HOST/KEY");
  root_flag->excludes(s3_flag)->excludes(endpoint_flag);
  auto* concurrency_flag =
      app.add_option("--concurrency", options.concurrency,
                     "jobs run at once (default: the cores; on S3 one more, for the time jobs "
                     "wait for it)")
          ->check(CLI::Range(1, 256));
  app.add_option("--sizes", defaults.sizes, "boxes to fit outputs within, largest first")
      ->delimiter(',')
      ->check(CLI::Range(1u, sluice::worker::kMaxSize))
      ->capture_default_str();
  app.add_option("--format", format,
                 "output format: jpeg, png, webp or gif (default: the input's)");
  app.add_option("--quality", defaults.quality, "output quality, 1-100")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--source-prefix", defaults.source_prefix,
                 "prefix of uploads, left out of output keys")
      ->capture_default_str();
  app.add_option("--waiting-prefixes", defaults.waiting_prefixes,
                 "where a producer leaves an upload it has claimed, looked at after the key")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--output-prefix", defaults.output_prefix, "prefix of output keys")
      ->capture_default_str();
  app.add_option("--done-prefix", defaults.done_prefix,
                 "where an original goes once done (\"\": it stays)")
      ->capture_default_str();
  app.add_option("--visibility-timeout", options.visibility_timeout_seconds,
                 "seconds a job's message stays hidden; running jobs extend it")
      ->check(CLI::Range(3, 43'200))
      ->capture_default_str();
  app.add_flag("--strict-decode", strict_decode,
               "fail a job whose image decodes with warnings of corrupt data, as corrupt_image");
  app.add_option("--job-timeout", job_timeout_seconds, "seconds a resize may take")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  app.add_option("--grace-period", grace_seconds,
                 "seconds running jobs get to finish after SIGTERM")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();
  app.add_option("--metrics-listen", metrics_listen, "HOST:PORT for Prometheus' /metrics")
      ->capture_default_str();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  sluice::CurveFlags curve_flags;
  sluice::AddCurveFlags(&app, &curve_flags);
  CLI11_PARSE(app, argc, argv);

  if (!sluice::InitLogging("worker", log_level)) {
    std::fprintf(stderr, "sluice-worker: unknown --log-level '%s'\n", log_level.c_str());
    return kExitUsage;
  }
  if (!format.empty()) {
    defaults.format = sluice::worker::ParseFormatName(format);
    if (!defaults.format) {
      std::fprintf(stderr, "sluice-worker: unknown --format '%s' (jpeg, png, webp or gif)\n",
                   format.c_str());
      return kExitUsage;
    }
  }
  if (defaults.sizes.empty() || defaults.sizes.size() > sluice::worker::kMaxSizesPerJob) {
    std::fprintf(stderr, "sluice-worker: --sizes takes 1 to %zu sizes\n",
                 sluice::worker::kMaxSizesPerJob);
    return kExitUsage;
  }
  options.endpoint = sluice::ResolveBrokerEndpoint(broker_flag);
  auto curve = sluice::ResolveCurveFlags(curve_flags);
  if (!curve.ok()) {
    std::fprintf(stderr, "sluice-worker: %s\n", curve.status().detail().c_str());
    return kExitUsage;
  }
  options.curve = *curve;
  options.job_timeout = std::chrono::seconds(job_timeout_seconds);

  s3 = s3 || !s3_endpoint.empty();
  if (!s3 && bucket_root.empty()) {
    std::fprintf(stderr,
                 "sluice-worker: --bucket-root DIR or --s3 [--s3-endpoint URL] is required\n");
    return kExitUsage;
  }
  std::optional<sluice::s3::Config> s3_config;
  if (s3 && concurrency_flag->count() == 0) {
    // A job on S3 waits for its requests (about a fifth of its time on
    // RGW over loopback): one more job keeps the cores busy meanwhile.
    // More measured no better (docs/benchmarks.md).
    options.concurrency = cores + 1;
  }
  if (s3) {
    auto config = sluice::s3::ConfigFromEnvironment(s3_endpoint, s3_path_style);
    if (!config.ok()) {
      std::fprintf(stderr, "sluice-worker: %s\n", config.error().c_str());
      return kExitUsage;
    }
    s3_config = std::move(*config);
  } else {
    struct stat root_stat;
    if (stat(bucket_root.c_str(), &root_stat) != 0 || !S_ISDIR(root_stat.st_mode)) {
      spdlog::critical("event=start_failed error=\"--bucket-root {} is not a directory\"",
                       bucket_root);
      return kExitCannotStart;
    }
  }

  Magick::InitializeMagick(argv[0]);
  sluice::worker::MagickLimits magick_limits;
  magick_limits.memory_bytes =
      kMagickMemoryBase + kMagickMemoryPerJob * static_cast<uint64_t>(options.concurrency);
  // Jobs already run in parallel; ImageMagick's threads only help when there
  // are fewer jobs than cores.
  magick_limits.threads = static_cast<size_t>(std::max(1, cores / options.concurrency));
  if (std::string error = sluice::worker::ConfigureImageMagick(magick_limits); !error.empty()) {
    spdlog::critical("event=start_failed error=\"{}\"", error);
    return kExitCannotStart;
  }

  // Only the main thread takes SIGTERM/SIGINT, in sigwait below.
  const sigset_t stop_signals = sluice::BlockStopSignals();
  auto registry = std::make_shared<prometheus::Registry>();
  auto exposer = sluice::ServeMetrics(metrics_listen, registry);
  if (!exposer.ok()) {
    spdlog::critical("event=start_failed error=\"{}\"", exposer.status().detail());
    return kExitCannotStart;
  }
  sluice::worker::WorkerMetrics metrics(registry, options.concurrency, defaults.sizes);

  sluice::s3::Metrics s3_metrics(*registry);
  std::unique_ptr<sluice::worker::BucketStore> store;
  std::string store_name;
  if (s3_config) {
    store_name = s3_config->scheme + "://" + s3_config->host +
                 (s3_config->path_style ? " (path style)" : "") + " region=" + s3_config->region;
    store = std::make_unique<sluice::worker::S3Store>(std::make_unique<sluice::s3::Client>(
        *s3_config, sluice::s3::ClientOptions{.observer = s3_metrics.Observer()}));
  } else {
    store_name = bucket_root;
    store = std::make_unique<sluice::worker::DirectoryStore>(bucket_root);
  }
  sluice::worker::JobRunnerOptions runner_options;
  runner_options.defaults = defaults;
  runner_options.limits.strict_decode = strict_decode;
  sluice::worker::JobRunner runner(store.get(), runner_options, &metrics);
  sluice::worker::Worker worker(options, &runner, &metrics);
  worker.Start();
  spdlog::info(
      "event=started queue={} broker={} store=\"{}\" concurrency={} magick_threads={} "
      "sizes={} metrics={}",
      options.queue_name, options.endpoint, store_name, options.concurrency, magick_limits.threads,
      fmt::join(defaults.sizes, ","), metrics_listen);

  int signo = 0;
  sigwait(&stop_signals, &signo);
  spdlog::info("event=draining signal={} grace_seconds={}", signo, grace_seconds);
  worker.Drain(std::chrono::seconds(grace_seconds));
  spdlog::info("event=stopped");
  return 0;
}
