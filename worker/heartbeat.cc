#include "worker/heartbeat.h"

#include <spdlog/spdlog.h>

#include <vector>

namespace sluice::worker {
namespace {

constexpr auto kTick = std::chrono::seconds(1);
constexpr size_t kBatch = 10;

}  // namespace

Heartbeat::Heartbeat(std::string endpoint, std::optional<CurveCredentials> curve,
                     std::string queue_name, int visibility_timeout_seconds, WorkerMetrics* metrics)
    : client_(std::move(endpoint), {.call_timeout_ms = 5'000, .curve = std::move(curve)}),
      queue_name_(std::move(queue_name)),
      visibility_timeout_seconds_(visibility_timeout_seconds),
      interval_(std::chrono::milliseconds(visibility_timeout_seconds * 1000 / 3)),
      metrics_(metrics),
      thread_([this] { Loop(); }) {}

Heartbeat::~Heartbeat() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

uint64_t Heartbeat::Add(const std::string& receipt_handle) {
  std::lock_guard lock(mu_);
  entries_[next_id_] = {receipt_handle, std::chrono::steady_clock::now() + interval_};
  return next_id_++;
}

void Heartbeat::Remove(uint64_t id) {
  std::lock_guard lock(mu_);
  entries_.erase(id);
}

void Heartbeat::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    wake_.wait_for(lock, kTick);
    if (stop_) break;
    ExtendDue(std::chrono::steady_clock::now());
  }
}

void Heartbeat::ExtendDue(TimePoint now) {
  std::vector<Entry*> due;
  for (auto& [id, entry] : entries_) {
    if (entry.extend_at <= now) due.push_back(&entry);
  }
  for (size_t start = 0; start < due.size(); start += kBatch) {
    pb::ChangeMessageVisibilityBatchRequest req;
    req.set_queue_name(queue_name_);
    for (size_t i = start; i < due.size() && i < start + kBatch; ++i) {
      auto* e = req.add_entries();
      e->set_id(std::to_string(i));
      e->set_receipt_handle(due[i]->receipt_handle);
      e->set_visibility_timeout(visibility_timeout_seconds_);
    }
    auto resp = client_.ChangeMessageVisibilityBatch(req);
    if (!resp.ok()) {
      // Try again next tick; the message stays hidden until its timeout ends.
      metrics_->BrokerError();
      spdlog::warn("event=heartbeat_failed queue={} error=\"{}\"", queue_name_,
                   resp.status().ToString());
      return;
    }
    for (const auto& failed : resp->failed()) {
      spdlog::warn("event=heartbeat_refused queue={} code={} error=\"{}\"", queue_name_,
                   ErrorCodeName(EntryStatus(failed).code()), failed.detail());
    }
    for (size_t i = start; i < due.size() && i < start + kBatch; ++i) {
      due[i]->extend_at = now + interval_;
    }
  }
}

}  // namespace sluice::worker
