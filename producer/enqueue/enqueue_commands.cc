#include "producer/enqueue/enqueue_commands.h"

#include <fcntl.h>
#include <prometheus/exposer.h>
#include <spdlog/spdlog.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>
#include <unordered_set>

#include "common/backoff.h"
#include "common/bucket_layout.h"
#include "common/logging.h"
#include "common/metrics_server.h"
#include "common/status.h"
#include "producer/cli/exit_codes.h"
#include "producer/enqueue/enqueuer.h"
#include "producer/enqueue/metrics.h"
#include "producer/enqueue/progress.h"
#include "producer/enqueue/s3_sent_journal.h"
#include "producer/enqueue/s3_uploads.h"
#include "producer/enqueue/sent_journal.h"
#include "producer/enqueue/upload_watcher.h"
#include "producer/enqueue/uploads.h"

namespace sluice {
namespace {

// Enough senders in flight for the broker's group commit to share fsyncs.
constexpr int kSenders = 8;
// A --watch producer also rescans pending/ this often, in case an event was
// missed (a writer that never closes, an overflow not reported).
constexpr auto kRescanPeriod = std::chrono::seconds(30);
// A --watch scan leaves an upload modified less than this ago: a scan cannot
// tell a file still being written (cp -r or scp -r into a new directory, a
// writer slower than kRescanPeriod) from a complete one, and its directory is
// watched by now, so its writer's close is reported. One that was complete
// already is taken by another scan, run this soon after.
constexpr auto kSettle = std::chrono::seconds(2);

constexpr size_t kMaxFailuresListed = 100;
// A --watch producer on S3 lists pending/ this often: S3 has no inotify (its
// event notifications, sent to the broker, are the way to learn of uploads
// at once; docs/producer.md).
constexpr auto kS3ListPeriod = std::chrono::seconds(5);

std::atomic<bool> g_stop{false};
void OnStopSignal(int) { g_stop = true; }

struct JobFlags {
  std::string queue_name;
  std::string bucket_root;
  bool s3 = false;
  std::string s3_endpoint;
  bool s3_path_style = false;
  std::string bucket;
  std::vector<uint32_t> sizes;
  std::string format;
  uint32_t quality = 0;
  std::string group_by = "folder";
};

void AddJobFlags(CLI::App* cmd, JobFlags* f) {
  cmd->add_option("--queue-name", f->queue_name, "The queue the jobs go to")->required();
  auto* root = cmd->add_option("--bucket-root", f->bucket_root,
                               "The directory holding one directory per bucket");
  auto* s3 = cmd->add_flag("--s3", f->s3,
                           "The bucket is an S3 bucket (credentials and region from AWS_* "
                           "variables), at AWS unless --s3-endpoint says otherwise");
  auto* endpoint = cmd->add_option("--s3-endpoint", f->s3_endpoint,
                                   "S3-compatible endpoint, http(s)://HOST[:PORT]; implies --s3");
  cmd->add_flag("--s3-path-style", f->s3_path_style,
                "Address S3 as http://HOST/BUCKET/KEY instead of http://BUCKET.HOST/KEY");
  root->excludes(s3)->excludes(endpoint);
  cmd->add_option("--bucket", f->bucket,
                  "The bucket: the directory --bucket-root/NAME, or the S3 bucket NAME")
      ->required();
  cmd->add_option("--sizes", f->sizes, "Boxes to fit outputs within (default: the worker's)")
      ->delimiter(',')
      ->check(CLI::Range(1u, 10'000u));
  cmd->add_option("--format", f->format, "jpeg, png, webp or gif (default: the worker's)")
      ->check(CLI::IsMember({"jpeg", "jpg", "png", "webp", "gif"}));
  cmd->add_option("--quality", f->quality, "1-100 (default: the worker's)")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--group-by", f->group_by,
                  "FIFO queues: the message group of an upload: folder (its top folder under "
                  "pending/), bucket or key")
      ->check(CLI::IsMember({"folder", "bucket", "key"}))
      ->capture_default_str();
}

// Everything an enqueue run needs once its flags are checked.
struct Run {
  // A directory bucket:
  std::unique_ptr<BucketUploads> uploads;
  std::unique_ptr<SentJournal> journal;
  // An S3 bucket:
  std::unique_ptr<s3::Client> s3;
  std::unique_ptr<S3Uploads> s3_uploads;
  std::unique_ptr<S3SentJournal> s3_journal;

  EnqueuerOptions options;

  SentLog* log() const { return journal ? static_cast<SentLog*>(journal.get()) : s3_journal.get(); }
};

// Opens the S3 bucket of `f` into `run`: checks that it can be listed, and
// reads its sent journal. An exit code when it cannot.
std::optional<int> OpenS3Bucket(const JobFlags& f, Run* run) {
  auto config = s3::ConfigFromEnvironment(f.s3_endpoint, f.s3_path_style);
  if (!config.ok()) return ReportUsageError(config.error());
  if (!s3::IsValidBucketName(f.bucket)) {
    return ReportUsageError("--bucket: '" + f.bucket + "' is not an S3 bucket name");
  }
  run->s3 = std::make_unique<s3::Client>(std::move(*config));
  auto listed = run->s3->List(f.bucket, layout::kPending, "", 1);
  if (!listed.ok()) {
    std::fprintf(stderr, "sluice-producer: error: bucket '%s': %s\n", f.bucket.c_str(),
                 listed.error().message.c_str());
    return listed.error().kind == s3::ErrorKind::kNotFound ? kExitNoBucket : kExitSomeFailed;
  }
  run->s3_uploads = std::make_unique<S3Uploads>(run->s3.get(), f.bucket);
  auto journal = S3SentJournal::Open(run->s3.get(), f.bucket);
  if (!journal.ok()) {
    std::fprintf(stderr, "sluice-producer: error: cannot read the sent journal: %s\n",
                 journal.error().message.c_str());
    return kExitSomeFailed;
  }
  run->s3_journal = std::move(*journal);
  return std::nullopt;
}

// Checks the bucket and the queue; an exit code when either is wrong. With
// `wait`, an unreachable broker or a missing queue is waited for.
Result<Run, int> Prepare(const CommandContext& ctx, const JobFlags& f, bool wait) {
  const bool on_s3 = f.s3 || !f.s3_endpoint.empty();
  if (!on_s3 && f.bucket_root.empty()) {
    return ReportUsageError("--bucket-root DIR or --s3 [--s3-endpoint URL] is required");
  }
  if (f.bucket.empty() || f.bucket == "." || f.bucket == ".." ||
      f.bucket.find('/') != std::string::npos) {
    return ReportUsageError("--bucket: '" + f.bucket + "' is not a bucket name");
  }
  const std::string dir = f.bucket_root + "/" + f.bucket;
  struct stat st;
  if (!on_s3 && (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))) {
    std::fprintf(stderr, "sluice-producer: error: bucket '%s' not found: %s is not a directory\n",
                 f.bucket.c_str(), dir.c_str());
    return kExitNoBucket;
  }
  Client client(ctx.endpoint, ctx.client_options);
  pb::GetQueueAttributesRequest req;
  req.set_queue_name(f.queue_name);
  req.add_attribute_names("FifoQueue");
  auto attributes = client.GetQueueAttributes(req);
  // A --watch producer outlives outages: in a cluster it may start before
  // the broker is up or the queue-setup Job has run. It waits for both.
  Backoff backoff(200, 10'000);
  bool warned = false;
  while (wait && !attributes.ok() && !g_stop &&
         (attributes.status().code() == StatusCode::kUnavailable ||
          attributes.status().code() == StatusCode::kQueueDoesNotExist)) {
    if (!warned) {
      spdlog::warn("event=waiting_for_queue queue={} error=\"{}\"", f.queue_name,
                   attributes.status().ToString());
      warned = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff.Next()));
    attributes = client.GetQueueAttributes(req);
  }
  if (!attributes.ok()) return ReportCallError(attributes.status(), "GetQueueAttributes");

  Run run;
  if (on_s3) {
    if (std::optional<int> code = OpenS3Bucket(f, &run)) return *code;
  } else {
    run.uploads = std::make_unique<BucketUploads>(dir);
    auto journal = SentJournal::Open(dir);
    if (!journal.ok()) {
      std::fprintf(stderr, "sluice-producer: error: %s\n", journal.status().detail().c_str());
      return kExitSomeFailed;
    }
    run.journal = std::move(*journal);
  }
  run.options.endpoint = ctx.endpoint;
  run.options.client_options = ctx.client_options;
  run.options.queue_name = f.queue_name;
  run.options.senders = kSenders;
  JobTemplate& job = run.options.job;
  job.bucket = f.bucket;
  job.sizes = f.sizes;
  job.format = f.format == "jpg" ? "jpeg" : f.format;
  job.quality = f.quality;
  job.fifo = attributes->attributes().count("FifoQueue") != 0 &&
             attributes->attributes().at("FifoQueue") == "true";
  job.group_by = f.group_by == "bucket" ? GroupBy::kBucket
                 : f.group_by == "key"  ? GroupBy::kKey
                                        : GroupBy::kFolder;
  return run;
}

// Claims `upload` and hands it to the enqueuer; counts what happened.
struct ClaimCounts {
  std::atomic<uint64_t> skipped{0};  // read by the metrics exposer's thread
  std::atomic<uint64_t> failed{0};
  std::vector<std::string> failures;

  // A --watch producer meets an unclaimable upload at every rescan: the
  // summary keeps the first ones, the counter all of them.
  void Failed(std::string why) {
    if (failures.size() < kMaxFailuresListed) failures.push_back(std::move(why));
    ++failed;
  }
};
void ClaimAndSubmit(BucketUploads& uploads, Enqueuer& enqueuer, const Upload& upload,
                    ClaimCounts* counts) {
  std::string error;
  switch (uploads.Claim(upload, &error)) {
    case ClaimResult::kClaimed:
      enqueuer.Submit(upload);
      break;
    case ClaimResult::kGone:
      ++counts->skipped;  // another producer took it first
      break;
    case ClaimResult::kFailed:
      counts->Failed(upload.path + ": " + error);
      break;
  }
}

// With `recover_from`, first sends every upload in queued/ that no journal
// named when it was opened: claimed by a run that may not have sent it (or by
// another producer still sending it; the deduplication id makes that second
// send harmless). Then claims and sends everything in pending/ (with
// `settle`, only what was last modified longer ago than that; `*left` tells
// whether anything was left). Returns how many uploads it found.
uint64_t Scan(BucketUploads& uploads, Enqueuer& enqueuer, ClaimCounts* counts,
              const SentJournal* recover_from, std::chrono::nanoseconds settle = {},
              bool* left = nullptr) {
  uint64_t found = 0;
  if (recover_from != nullptr) {
    for (const Upload& upload : uploads.List(layout::kQueued, nullptr)) {
      if (recover_from->Sent(upload)) continue;
      enqueuer.Submit(upload);
      ++found;
    }
  }
  const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const std::vector<Upload> pending = uploads.List(layout::kPending, nullptr);
  for (const Upload& upload : pending) {
    if (std::llabs(now_ns - upload.mtime_ns) < settle.count()) {
      *left = true;
      continue;
    }
    ClaimAndSubmit(uploads, enqueuer, upload, counts);
  }
  return found + pending.size();
}

int Summarize(Enqueuer& enqueuer, const ClaimCounts& claims, uint64_t uploaded) {
  const EnqueueCounts counts = enqueuer.counts();
  std::vector<std::string> failures = claims.failures;
  for (const std::string& f : enqueuer.failures()) failures.push_back(f);
  OutputJson out = OutputJson::object();
  if (uploaded > 0) out["Uploaded"] = uploaded;
  out["Enqueued"] = counts.enqueued;
  out["Skipped"] = claims.skipped.load();
  out["Failed"] = claims.failed.load() + counts.failed;
  if (!failures.empty()) out["Failures"] = failures;
  for (const std::string& f : failures) {
    std::fprintf(stderr, "sluice-producer: not enqueued: %s\n", f.c_str());
  }
  ReportOutput(out);
  const Status fatal = enqueuer.fatal();
  if (!fatal.ok()) return ReportCallError(fatal, "SendMessageBatch");
  return failures.empty() ? kExitOk : kExitSomeFailed;
}

int Watch(BucketUploads& uploads, const SentJournal& journal, Enqueuer& enqueuer,
          ClaimCounts* counts) {
  const std::string pending = uploads.dir() + "/" + layout::kPending;
  auto watcher = UploadWatcher::Open(pending);
  if (!watcher.ok()) {
    spdlog::error("event=watch_failed error=\"{}\"", watcher.status().detail());
    return kExitSomeFailed;
  }
  // After the watch exists, so nothing lands unseen between scan and watch.
  bool left = false;
  Scan(uploads, enqueuer, counts, &journal, kSettle, &left);
  spdlog::info("event=watching dir={}", pending);
  auto next_scan = std::chrono::steady_clock::now() + (left ? kSettle : kRescanPeriod);
  while (!g_stop) {
    UploadWatcher::Events events = (*watcher)->Wait(std::chrono::milliseconds(500));
    for (const std::string& path : events.files) {
      Upload upload;
      if (uploads.Stat(layout::kPending, path, &upload)) {
        ClaimAndSubmit(uploads, enqueuer, upload, counts);
      }
    }
    if (events.rescan || std::chrono::steady_clock::now() >= next_scan) {
      left = false;
      Scan(uploads, enqueuer, counts, /*recover_from=*/nullptr, kSettle, &left);
      next_scan = std::chrono::steady_clock::now() + (left ? kSettle : kRescanPeriod);
    }
  }
  spdlog::info("event=stopping");
  enqueuer.Stop();
  return kExitOk;
}

// Sends the job of every upload in the S3 bucket's pending/ that no journal
// names and that `submitted` (this run's sends) does not hold. Returns how
// many it sent, or the listing's error. With `compact`, first merges the
// journal's old segments given this listing.
Result<uint64_t, s3::Error> ScanS3(Run& run, Enqueuer& enqueuer,
                                   std::unordered_set<std::string>* submitted, bool compact) {
  auto pending = run.s3_uploads->List(layout::kPending);
  if (!pending.ok()) return pending.error();
  if (compact) {
    if (Status s = run.s3_journal->Compact(*pending); !s.ok()) {
      spdlog::warn("event=journal_compaction_failed error=\"{}\"", s.detail());
    }
  }
  uint64_t found = 0, already = 0;
  std::unordered_set<std::string> listed;
  for (const Upload& upload : *pending) {
    std::string entry = S3SentJournal::Entry(upload);
    listed.insert(entry);
    if (run.s3_journal->Sent(upload)) {
      ++already;
    } else if (submitted->insert(std::move(entry)).second) {
      enqueuer.Submit(upload);
      ++found;
    }
  }
  // What left pending/ (its worker is done) is forgotten.
  std::erase_if(*submitted, [&](const std::string& e) { return listed.count(e) == 0; });
  spdlog::debug("event=listed bucket={} objects={} already_enqueued={} new={}",
                run.s3_uploads->bucket(), pending->size(), already, found);
  return found;
}

int EnqueueS3(Run& run, Enqueuer& enqueuer, Progress& progress, bool watch) {
  std::unordered_set<std::string> submitted;
  auto found = ScanS3(run, enqueuer, &submitted, /*compact=*/true);
  if (!found.ok()) {
    std::fprintf(stderr, "sluice-producer: error: listing pending/: %s\n",
                 found.error().message.c_str());
    return kExitSomeFailed;
  }
  progress.SetTotal(*found);
  if (!watch) return kExitOk;
  spdlog::info("event=watching bucket={} every_seconds={}", run.s3_uploads->bucket(),
               kS3ListPeriod.count());
  auto next_list = std::chrono::steady_clock::now() + kS3ListPeriod;
  while (!g_stop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (Status s = run.s3_journal->Flush(); !s.ok()) {
      spdlog::warn("event=journal_failed error=\"{}\"", s.detail());
    }
    if (std::chrono::steady_clock::now() < next_list) continue;
    if (auto listed = ScanS3(run, enqueuer, &submitted, /*compact=*/false); !listed.ok()) {
      spdlog::warn("event=list_failed bucket={} error=\"{}\" action=retry_next_period",
                   run.s3_uploads->bucket(), listed.error().message);
    }
    next_list = std::chrono::steady_clock::now() + kS3ListPeriod;
  }
  spdlog::info("event=stopping");
  enqueuer.Stop();
  return kExitOk;
}

// Copies `source` to pending/<prefix><name> under a temporary name and then
// renames it, so no producer sees it half-written; never replaces a file.
Status Place(const BucketUploads& uploads, const std::string& prefix, const std::string& source,
             Upload* placed) {
  const std::string name = source.substr(source.rfind('/') + 1);
  const std::string relative = prefix + name;
  const std::string final_path = uploads.dir() + "/" + layout::kPending + relative;
  const std::string dir = final_path.substr(0, final_path.rfind('/'));
  const std::string temp = dir + "/." + name + ".part";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (!ec) {
    std::filesystem::copy_file(source, temp, std::filesystem::copy_options::overwrite_existing, ec);
  }
  if (ec) {
    return Status(StatusCode::kInvalidParameterValue,
                  "cannot copy " + source + ": " + ec.message());
  }
  if (renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, final_path.c_str(), RENAME_NOREPLACE) != 0) {
    const int err = errno;
    unlink(temp.c_str());
    return Status(StatusCode::kInvalidParameterValue,
                  err == EEXIST ? final_path + " exists already"
                                : "cannot place " + final_path + ": " + std::strerror(err));
  }
  if (!uploads.Stat(layout::kPending, relative, placed)) {
    return Status(StatusCode::kInternalError, final_path + " vanished after it was placed");
  }
  return Status::Ok();
}

void AddEnqueue(CommandSet& set) {
  struct Flags : JobFlags {
    bool watch = false;
    std::string metrics_listen;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = set.Add(
      "enqueue",
      "Enqueues a resize job for every upload in the bucket's pending/ not yet enqueued, once "
      "each; --watch keeps enqueueing new uploads as they arrive",
      [f](const CommandContext& ctx) {
        InitLogging("producer", "info");
        if (f->watch) {
          std::signal(SIGINT, OnStopSignal);
          std::signal(SIGTERM, OnStopSignal);
        }
        auto prepared = Prepare(ctx, *f, /*wait=*/f->watch);
        if (!prepared.ok()) return prepared.error();
        Run& run = *prepared;
        run.options.retry_forever = f->watch;
        if (f->watch && run.uploads) {
          std::filesystem::create_directories(run.uploads->dir() + "/" + layout::kPending);
        }
        Enqueuer enqueuer(run.options, run.log());
        ClaimCounts claims;
        // The exposer holds collectables weakly: the metrics must outlive it.
        std::shared_ptr<ProducerMetrics> metrics;
        std::unique_ptr<prometheus::Exposer> exposer;
        if (!f->metrics_listen.empty()) {
          metrics = std::make_shared<ProducerMetrics>([&] {
            const EnqueueCounts sent = enqueuer.counts();
            return ProducerCounts{sent.enqueued, claims.skipped.load(),
                                  claims.failed.load() + sent.failed};
          });
          auto served = ServeMetrics(f->metrics_listen, metrics);
          if (!served.ok())
            return ReportUsageError("--metrics-listen: " + served.status().detail());
          exposer = std::move(*served);
        }
        {
          Progress progress(isatty(STDERR_FILENO) != 0, [&] { return enqueuer.counts().enqueued; });
          if (run.s3_uploads) {
            if (int code = EnqueueS3(run, enqueuer, progress, f->watch); code != kExitOk) {
              return code;
            }
          } else if (f->watch) {
            if (int code = Watch(*run.uploads, *run.journal, enqueuer, &claims); code != kExitOk) {
              return code;
            }
          } else {
            progress.SetTotal(Scan(*run.uploads, enqueuer, &claims, run.journal.get()));
          }
          enqueuer.Finish();
        }
        return Summarize(enqueuer, claims, 0);
      });
  AddJobFlags(cmd, f.get());
  cmd->add_flag("--watch", f->watch,
                "Keep running: enqueue uploads as they are completely written (inotify)");
  cmd->add_option("--metrics-listen", f->metrics_listen,
                  "HOST:PORT to serve Prometheus' /metrics on (default: none)");
}

void AddUpload(CommandSet& set) {
  struct Flags : JobFlags {
    std::vector<std::string> files;
    std::string prefix;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = set.Add(
      "upload", "Copies files into the bucket's pending/ and enqueues their jobs, in one step",
      [f](const CommandContext& ctx) {
        InitLogging("producer", "info");
        if (!f->prefix.empty() && f->prefix.back() != '/') f->prefix += '/';
        auto prepared = Prepare(ctx, *f, /*wait=*/false);
        if (!prepared.ok()) return prepared.error();
        Run& run = *prepared;
        Enqueuer enqueuer(run.options, run.log());
        ClaimCounts claims;
        uint64_t uploaded = 0;
        for (const std::string& file : f->files) {
          if (run.s3_uploads) {
            // Nothing to claim: on S3 the journal alone tells what was sent.
            const std::string name = file.substr(file.rfind('/') + 1);
            auto placed = run.s3_uploads->Place(file, f->prefix + name);
            if (!placed.ok()) {
              claims.Failed(file + ": " + placed.error());
              continue;
            }
            ++uploaded;
            enqueuer.Submit(*placed);
            continue;
          }
          Upload placed;
          if (Status s = Place(*run.uploads, f->prefix, file, &placed); !s.ok()) {
            claims.Failed(file + ": " + s.detail());
            continue;
          }
          ++uploaded;
          ClaimAndSubmit(*run.uploads, enqueuer, placed, &claims);
        }
        enqueuer.Finish();
        return Summarize(enqueuer, claims, uploaded);
      });
  cmd->add_option("files", f->files, "The image files to upload")->required();
  AddJobFlags(cmd, f.get());
  cmd->add_option("--prefix", f->prefix, "A folder under pending/ to put them in (e.g. alice/)");
}

}  // namespace

void AddEnqueueCommands(CommandSet& set) {
  AddEnqueue(set);
  AddUpload(set);
}

}  // namespace sluice
