#include "worker/worker.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/backoff.h"
#include "worker/dead_letter.h"
#include "worker/job.h"

namespace sluice::worker {
namespace {

using SteadyClock = std::chrono::steady_clock;

// A receive's long poll. Short, so that a drain starting while every thread
// waits on an empty queue ends within this time.
constexpr int kReceiveWaitSeconds = 2;
constexpr Millis kCallTimeoutMs = 5'000;
constexpr int kAckAttempts = 3;
constexpr int kMaxRetryDelaySeconds = 300;

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// A transient failure's message comes back after 5 s, then 10, 20, ... up to
// 5 minutes, by how many times it has been received.
int RetryDelaySeconds(const pb::Message& message) {
  int receives = 1;
  if (auto it = message.attributes().find("ApproximateReceiveCount");
      it != message.attributes().end()) {
    receives = std::max(1, std::atoi(it->second.c_str()));
  }
  const int exponent = std::min(receives - 1, 10);
  return std::min(5 << exponent, kMaxRetryDelaySeconds);
}

std::string JoinSizes(const std::vector<uint32_t>& sizes) {
  std::string out;
  for (uint32_t s : sizes) {
    if (!out.empty()) out += ',';
    out += std::to_string(s);
  }
  return out;
}

}  // namespace

Worker::Worker(WorkerOptions options, const JobRunner* runner, WorkerMetrics* metrics)
    : options_(std::move(options)), runner_(runner), metrics_(metrics) {}

Worker::~Worker() {
  if (!threads_.empty()) Drain(std::chrono::milliseconds(0));
}

void Worker::Start() {
  heartbeat_ = std::make_unique<Heartbeat>(options_.endpoint, options_.curve, options_.queue_name,
                                           options_.visibility_timeout_seconds, metrics_);
  running_threads_ = options_.concurrency;
  for (int slot = 0; slot < options_.concurrency; ++slot) {
    threads_.emplace_back([this, slot] { JobLoop(slot); });
  }
}

void Worker::Drain(std::chrono::milliseconds grace) {
  {
    std::unique_lock lock(mu_);
    draining_ = true;
    changed_.notify_all();
    if (!changed_.wait_for(lock, grace, [this] { return running_threads_ == 0; })) {
      spdlog::warn("event=drain_grace_over running_jobs={} action=hand_back", running_threads_);
    }
  }
  cancel_ = true;
  for (auto& t : threads_) t.join();
  threads_.clear();
  heartbeat_.reset();
}

bool Worker::Pause(std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  return !changed_.wait_for(lock, wait, [this] { return draining_.load(); });
}

void Worker::JobLoop(int slot) {
  Client client(options_.endpoint, {.call_timeout_ms = kCallTimeoutMs, .curve = options_.curve});
  Backoff backoff(100, 10'000);
  StatusCode last_error = StatusCode::kOk;
  while (!draining_) {
    pb::ReceiveMessageRequest req;
    req.set_queue_name(options_.queue_name);
    req.set_max_number_of_messages(1);
    req.set_wait_time_seconds(kReceiveWaitSeconds);
    req.set_visibility_timeout(options_.visibility_timeout_seconds);
    req.add_attribute_names("All");
    req.add_message_attribute_names("All");
    auto resp = client.ReceiveMessage(req);
    if (!resp.ok()) {
      metrics_->BrokerError();
      if (resp.status().code() != last_error) {
        spdlog::warn("event=receive_failed slot={} queue={} error=\"{}\" action=retry_with_backoff",
                     slot, options_.queue_name, resp.status().ToString());
        last_error = resp.status().code();
      }
      Pause(std::chrono::milliseconds(backoff.Next()));
      continue;
    }
    if (last_error != StatusCode::kOk) {
      spdlog::info("event=receive_recovered slot={} queue={}", slot, options_.queue_name);
      last_error = StatusCode::kOk;
    }
    backoff.Reset();
    for (const pb::Message& message : resp->messages()) {
      if (draining_) {
        HandBack(client, message, 0);
      } else {
        HandleMessage(client, message);
      }
    }
  }
  std::lock_guard lock(mu_);
  --running_threads_;
  changed_.notify_all();
}

void Worker::HandleMessage(Client& client, const pb::Message& message) {
  const auto started = SteadyClock::now();
  metrics_->in_flight().Increment();
  if (auto sent = message.attributes().find("SentTimestamp"); sent != message.attributes().end()) {
    const double waited =
        static_cast<double>(SystemClock().Now() - std::atoll(sent->second.c_str())) / 1000.0;
    metrics_->QueueWait(std::max(0.0, waited));
  }
  const uint64_t heartbeat_id = heartbeat_->Add(message.receipt_handle());

  std::vector<JobLogLine> lines;
  std::optional<JobError> error;
  auto jobs = ParseJobs(message.body(), runner_->options().defaults);
  if (!jobs.ok()) {
    error = jobs.error();
    JobLogLine line;
    line.error = error;
    lines.push_back(std::move(line));
  } else {
    for (const s3::SkippedRecord& skipped : jobs->skipped) {
      metrics_->S3RecordSkipped(skipped.reason);
      spdlog::warn("event=s3_record_skipped message_id={} event_name=\"{}\" reason={}",
                   message.message_id(), skipped.event_name, skipped.reason);
    }
    for (const Job& job : jobs->jobs) {
      lines.push_back(RunJob(job));
      error = lines.back().error;
      if (error) break;
    }
  }
  heartbeat_->Remove(heartbeat_id);

  JobResult result = JobResult::kOk;
  if (error) {
    metrics_->JobFailure(error->reason);
    result = Fail(client, message, *error);
  } else {
    Ack(client, message);
  }
  const double seconds = SecondsSince(started);
  metrics_->JobDone(result, seconds);
  metrics_->in_flight().Decrement();

  for (const JobLogLine& line : lines) {
    const auto result_name = JobResultName(result);
    if (line.report) {
      const JobReport& r = *line.report;
      if (!r.damage.empty()) {
        // Rendered from what decoded, as browsers and other resizers do.
        spdlog::warn("event=damaged_image message_id={} bucket={} key=\"{}\" damage=\"{}\"",
                     message.message_id(), line.bucket, line.key, r.damage);
      }
      spdlog::info(
          "event=job message_id={} bucket={} key=\"{}\" sizes={} result={} input={} outputs={} "
          "bytes_in={} bytes_out={} resize_ms={:.1f} duration_ms={:.1f} redone={}",
          message.message_id(), line.bucket, line.key, line.sizes, result_name, r.input_size,
          r.outputs, r.bytes_read, r.bytes_written, r.resize_seconds * 1000, line.seconds * 1000,
          r.already_done);
    } else if (line.error) {
      const auto log_level =
          IsPermanent(line.error->reason) ? spdlog::level::err : spdlog::level::warn;
      spdlog::log(log_level,
                  "event=job message_id={} bucket={} key=\"{}\" sizes={} result={} reason={} "
                  "error=\"{}\" duration_ms={:.1f}",
                  message.message_id(), line.bucket, line.key, line.sizes, result_name,
                  ReasonName(line.error->reason), line.error->detail, line.seconds * 1000);
    }
  }
  if (jobs.ok() && jobs->jobs.empty()) {
    spdlog::info("event=job message_id={} result=ok jobs=0 note=\"no ObjectCreated record\"",
                 message.message_id());
  }
}

Worker::JobLogLine Worker::RunJob(const Job& job) {
  const auto started = SteadyClock::now();
  JobLogLine line;
  line.bucket = job.bucket;
  line.key = job.key;
  line.sizes = JoinSizes(job.sizes);
  try {
    auto report = runner_->Run(job, {started + options_.job_timeout, &cancel_});
    if (report.ok()) {
      line.report = std::move(*report);
    } else {
      line.error = report.error();
    }
  } catch (const std::exception& e) {
    // Our modules report errors as values; this is a bug, and must not take
    // the worker down with it.
    line.error = JobError{FailureReason::kInternal, std::string("unexpected: ") + e.what()};
  }
  line.seconds = SecondsSince(started);
  return line;
}

JobResult Worker::Fail(Client& client, const pb::Message& message, const JobError& error) {
  if (error.reason == FailureReason::kCancelled) {
    HandBack(client, message, 0);
    return JobResult::kFailed;
  }
  if (!IsPermanent(error.reason)) {
    HandBack(client, message, RetryDelaySeconds(message));
    return JobResult::kFailed;
  }
  auto dead_letter_queue = FindDeadLetterQueue(client, options_.queue_name);
  if (!dead_letter_queue.ok()) {
    metrics_->BrokerError();
    HandBack(client, message, RetryDelaySeconds(message));
    return JobResult::kFailed;
  }
  if (dead_letter_queue->empty()) {
    spdlog::error(
        "event=job_dropped message_id={} queue={} reason={} note=\"the queue has no "
        "dead-letter queue\"",
        message.message_id(), options_.queue_name, ReasonName(error.reason));
    Ack(client, message);
    return JobResult::kInvalid;
  }
  if (Status s = SendToDeadLetterQueue(client, *dead_letter_queue, message, error); !s.ok()) {
    metrics_->BrokerError();
    spdlog::warn("event=dead_letter_failed message_id={} dead_letter_queue={} error=\"{}\"",
                 message.message_id(), *dead_letter_queue, s.ToString());
    HandBack(client, message, RetryDelaySeconds(message));
    return JobResult::kFailed;
  }
  Ack(client, message);
  return JobResult::kDeadLettered;
}

void Worker::Ack(Client& client, const pb::Message& message) {
  pb::DeleteMessageRequest req;
  req.set_queue_name(options_.queue_name);
  req.set_receipt_handle(message.receipt_handle());
  Backoff backoff(100, 1'000);
  for (int attempt = 1;; ++attempt) {
    auto resp = client.DeleteMessage(req);
    if (resp.ok()) return;
    metrics_->BrokerError();
    const bool retry = resp.status().code() == StatusCode::kUnavailable && attempt < kAckAttempts;
    if (!retry) {
      // The message comes back after its visibility timeout and the job is
      // done again, to the same outputs.
      spdlog::warn("event=delete_failed message_id={} error=\"{}\"", message.message_id(),
                   resp.status().ToString());
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff.Next()));
  }
}

void Worker::HandBack(Client& client, const pb::Message& message, int visibility_timeout_seconds) {
  pb::ChangeMessageVisibilityRequest req;
  req.set_queue_name(options_.queue_name);
  req.set_receipt_handle(message.receipt_handle());
  req.set_visibility_timeout(visibility_timeout_seconds);
  auto resp = client.ChangeMessageVisibility(req);
  if (!resp.ok()) {
    // It comes back anyway when its visibility timeout ends.
    metrics_->BrokerError();
    spdlog::warn("event=hand_back_failed message_id={} error=\"{}\"", message.message_id(),
                 resp.status().ToString());
  }
}

}  // namespace sluice::worker
