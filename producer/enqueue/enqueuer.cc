#include "producer/enqueue/enqueuer.h"

#include <spdlog/spdlog.h>

#include <functional>

#include "common/backoff.h"

namespace sluice {
namespace {

constexpr size_t kBatch = 10;

}  // namespace

Enqueuer::Enqueuer(EnqueuerOptions options, SentLog* journal)
    : options_(std::move(options)), journal_(journal) {
  for (int i = 0; i < std::max(1, options_.senders); ++i) {
    senders_.push_back(std::make_unique<Sender>());
  }
  for (auto& sender : senders_) {
    Sender* s = sender.get();
    s->thread = std::thread([this, s] { SenderLoop(s); });
  }
}

Enqueuer::~Enqueuer() { Finish(); }

void Enqueuer::Submit(const Upload& upload) {
  std::lock_guard lock(mu_);
  size_t index;
  if (options_.job.fifo) {
    index = std::hash<std::string>{}(MessageGroupId(options_.job, upload)) % senders_.size();
  } else {
    index = next_sender_++ % senders_.size();
  }
  senders_[index]->queue.push_back(upload);
  senders_[index]->wake.notify_one();
}

void Enqueuer::WakeAll() {
  for (auto& sender : senders_) sender->wake.notify_one();
}

void Enqueuer::Finish() {
  {
    std::lock_guard lock(mu_);
    finishing_ = true;
    WakeAll();
  }
  for (auto& sender : senders_) {
    if (sender->thread.joinable()) sender->thread.join();
  }
  // What a stopped sender still held stays in queued/, unjournaled, and the
  // next start sends it: a failure only when a broker error stopped us.
  const Status fatal_status = fatal();
  size_t left = 0;
  for (auto& sender : senders_) {
    for (const Upload& upload : sender->queue) {
      if (!fatal_status.ok()) {
        Fail(upload, "not sent (left for the next run): " + fatal_status.ToString());
      }
      ++left;
    }
    sender->queue.clear();
  }
  if (left > 0 && fatal_status.ok()) {
    spdlog::info("event=left_unsent uploads={} note=\"sent at the next start\"", left);
  }
}

void Enqueuer::Stop() {
  stop_ = true;
  std::lock_guard lock(mu_);
  finishing_ = true;
  WakeAll();
}

EnqueueCounts Enqueuer::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

Status Enqueuer::fatal() const {
  std::lock_guard lock(mu_);
  return fatal_;
}

std::vector<std::string> Enqueuer::failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

void Enqueuer::Fail(const Upload& upload, const std::string& why) {
  std::lock_guard lock(mu_);
  ++counts_.failed;
  failures_.push_back(upload.path + ": " + why);
}

void Enqueuer::SenderLoop(Sender* sender) {
  Client client(options_.endpoint, options_.client_options);
  while (true) {
    std::vector<Upload> batch;
    {
      std::unique_lock lock(mu_);
      sender->wake.wait(lock, [&] { return !sender->queue.empty() || finishing_ || stop_; });
      if (stop_ || (sender->queue.empty() && finishing_)) return;
      while (!sender->queue.empty() && batch.size() < kBatch) {
        batch.push_back(std::move(sender->queue.front()));
        sender->queue.pop_front();
      }
    }
    if (!SendBatch(sender, client, batch)) return;
  }
}

bool Enqueuer::SendBatch(Sender* sender, Client& client, const std::vector<Upload>& batch) {
  pb::SendMessageBatchRequest req;
  req.set_queue_name(options_.queue_name);
  for (size_t i = 0; i < batch.size(); ++i) {
    pb::SendMessageEntry* entry = req.add_entries();
    *entry = JobMessage(options_.job, batch[i]);
    entry->set_id(std::to_string(i));
  }
  Backoff backoff(100, 10'000);
  bool warned = false;
  while (true) {
    auto resp = client.SendMessageBatch(req);
    if (resp.ok()) {
      std::vector<Upload> sent;
      for (const auto& ok : resp->successful()) sent.push_back(batch[std::stoul(ok.id())]);
      if (Status s = journal_->Append(sent); !s.ok()) {
        // Sent but not journaled: the next start sends them again, which the
        // deduplication id makes harmless for five minutes.
        spdlog::warn("event=journal_failed uploads={} error=\"{}\"", sent.size(), s.detail());
      }
      for (const auto& failed : resp->failed()) {
        Fail(batch[std::stoul(failed.id())],
             std::string(ErrorCodeName(EntryStatus(failed).code())) + ": " + failed.detail());
      }
      std::lock_guard lock(mu_);
      counts_.enqueued += resp->successful_size();
      return true;
    }
    const bool transient = resp.status().code() == StatusCode::kUnavailable;
    if (!transient || !options_.retry_forever || stop_) {
      for (const Upload& upload : batch) Fail(upload, resp.status().ToString());
      std::lock_guard lock(mu_);
      if (fatal_.ok()) fatal_ = resp.status();
      stop_ = true;
      WakeAll();
      return false;
    }
    if (!warned) {
      spdlog::warn("event=broker_unavailable queue={} action=retry_with_backoff error=\"{}\"",
                   options_.queue_name, resp.status().ToString());
      warned = true;
    }
    std::unique_lock lock(mu_);
    sender->wake.wait_for(lock, std::chrono::milliseconds(backoff.Next()),
                          [this] { return stop_.load(); });
  }
}

}  // namespace sluice
