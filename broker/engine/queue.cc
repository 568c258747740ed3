#include "broker/engine/queue.h"

#include <algorithm>
#include <cassert>

#include "broker/engine/limits.h"

namespace sluice {

Queue::Queue(std::string name, uint64_t incarnation, QueueConfig config, Millis now,
             Journal* journal)
    : name_(std::move(name)),
      incarnation_(incarnation),
      journal_(journal),
      config_(std::move(config)),
      created_at_(now),
      last_modified_at_(now),
      dedup_(limits::kDeduplicationWindowMs) {}

void Queue::SetConfig(const QueueConfig& config, Millis now) {
  config_ = config;
  last_modified_at_ = now;
  journal_->QueueChanged(*this);
}

void Queue::SetTags(TagMap tags) {
  tags_ = std::move(tags);
  journal_->QueueChanged(*this);
}

void Queue::Advance(Millis now) {
  while (!timers_.empty() && timers_.begin()->first <= now) {
    StoredMessage& m = messages_.at(timers_.begin()->second);
    Detach(m);
    Attach(m, MessageState::kVisible, 0);
  }
  // Retention is the same for every message of a queue, so the oldest
  // enqueue time is the first to expire; lowering the period takes effect here.
  const Millis retention_ms = Millis{config_.message_retention_s} * 1000;
  while (!by_age_.empty() && by_age_.begin()->first + retention_ms <= now) {
    Remove(by_age_.begin()->second, /*moved=*/false);
    ++counters_.expired;
  }
  dedup_.Expire(now, [this](const std::string& id) { journal_->DedupForgotten(*this, id); });
}

std::optional<Millis> Queue::NextTimer() const {
  std::optional<Millis> next;
  if (!timers_.empty()) next = timers_.begin()->first;
  if (!by_age_.empty()) {
    const Millis expiry = by_age_.begin()->first + Millis{config_.message_retention_s} * 1000;
    if (!next || expiry < *next) next = expiry;
  }
  return next;
}

const DedupWindow::Entry* Queue::FindDuplicate(const std::string& deduplication_id) const {
  return dedup_.Find(deduplication_id);
}

void Queue::RememberDeduplicationId(const StoredMessage& message, Millis now) {
  const DedupWindow::Entry& e =
      dedup_.Remember(message.deduplication_id, message.message_id, message.sequence_number, now);
  journal_->DedupRemembered(*this, message.deduplication_id, e);
}

const StoredMessage& Queue::Enqueue(StoredMessage message, Millis delay_ms, Millis now) {
  message.seq = next_seq_++;
  if (fifo()) {
    message.sequence_number = next_sequence_number_++;
    RememberDeduplicationId(message, now);
  }
  message.state = delay_ms > 0 ? MessageState::kDelayed : MessageState::kVisible;
  message.available_at = delay_ms > 0 ? now + delay_ms : 0;
  const bool new_body = !message.body.empty();
  StoredMessage& m = Insert(std::move(message));
  ++counters_.sent;
  journal_->MessageAdded(*this, m, new_body);
  if (journal_->KeepsBodies()) {
    // The journal's storage holds the body from now on.
    m.body.clear();
    m.body.shrink_to_fit();
  }
  return m;
}

void Queue::Restore(StoredMessage message) {
  next_seq_ = std::max(next_seq_, message.seq + 1);
  next_receipt_seq_ = std::max(next_receipt_seq_, message.receipt_seq + 1);
  next_sequence_number_ = std::max(next_sequence_number_, message.sequence_number + 1);
  Insert(std::move(message));
}

void Queue::RestoreCounters(uint64_t next_seq, uint64_t next_receipt_seq,
                            uint64_t next_sequence_number, Millis last_modified_at) {
  next_seq_ = std::max(next_seq_, next_seq);
  next_receipt_seq_ = std::max(next_receipt_seq_, next_receipt_seq);
  next_sequence_number_ = std::max(next_sequence_number_, next_sequence_number);
  last_modified_at_ = last_modified_at;
}

void Queue::RestoreDedup(const std::string& id, const DedupWindow::Entry& entry) {
  dedup_.Restore(id, entry);
}

StoredMessage& Queue::Insert(StoredMessage message) {
  const MessageState state = message.state;
  const Millis available_at = message.available_at;
  message.state = MessageState::kVisible;  // Attach below sets the real state
  auto [it, inserted] = messages_.emplace(message.seq, std::move(message));
  assert(inserted);
  StoredMessage& m = it->second;
  by_age_.emplace(m.enqueued_at, m.seq);
  if (fifo()) groups_[m.group_id].seqs.insert(m.seq);
  Attach(m, state, available_at);
  return m;
}

void Queue::Detach(StoredMessage& m) {
  switch (m.state) {
    case MessageState::kVisible:
      --visible_count_;
      if (!fifo()) visible_.erase(m.seq);
      break;
    case MessageState::kDelayed:
      --delayed_count_;
      timers_.erase({m.available_at, m.seq});
      break;
    case MessageState::kInFlight:
      --in_flight_count_;
      timers_.erase({m.available_at, m.seq});
      if (fifo()) --groups_.at(m.group_id).in_flight;
      break;
  }
}

void Queue::Attach(StoredMessage& m, MessageState state, Millis available_at) {
  m.state = state;
  m.available_at = available_at;
  switch (state) {
    case MessageState::kVisible:
      ++visible_count_;
      if (!fifo()) visible_.insert(m.seq);
      break;
    case MessageState::kDelayed:
      ++delayed_count_;
      timers_.emplace(available_at, m.seq);
      break;
    case MessageState::kInFlight:
      ++in_flight_count_;
      timers_.emplace(available_at, m.seq);
      if (fifo()) ++groups_.at(m.group_id).in_flight;
      break;
  }
  if (fifo()) RefreshGroup(m.group_id);
}

void Queue::RefreshGroup(const std::string& group_id) {
  auto it = groups_.find(group_id);
  if (it == groups_.end()) return;
  Group& g = it->second;
  if (g.ready_head) {
    ready_groups_.erase({*g.ready_head, group_id});
    g.ready_head.reset();
  }
  if (g.seqs.empty()) {
    if (g.in_flight == 0) groups_.erase(it);
    return;
  }
  const uint64_t head = *g.seqs.begin();
  if (g.in_flight == 0 && messages_.at(head).state == MessageState::kVisible) {
    g.ready_head = head;
    ready_groups_.emplace(head, group_id);
  }
}

void Queue::Deliver(StoredMessage& m, Millis visibility_ms, Millis now) {
  Detach(m);
  ++m.receive_count;
  if (m.first_received_at == 0) m.first_received_at = now;
  m.received_at = now;
  m.receipt_seq = next_receipt_seq_++;
  ++counters_.received;
  Attach(m, MessageState::kInFlight, now + visibility_ms);
  journal_->MessageChanged(*this, m);
}

StoredMessage Queue::Remove(uint64_t seq, bool moved) {
  auto it = messages_.find(seq);
  assert(it != messages_.end());
  StoredMessage& m = it->second;
  journal_->MessageRemoved(*this, m, moved);
  Detach(m);
  by_age_.erase({m.enqueued_at, m.seq});
  StoredMessage out = std::move(m);
  messages_.erase(it);
  if (fifo()) {
    groups_.at(out.group_id).seqs.erase(seq);
    RefreshGroup(out.group_id);
  }
  return out;
}

void Queue::Receive(int max, Millis visibility_ms, int max_receive_count, Millis now,
                    std::vector<const StoredMessage*>* delivered,
                    std::vector<StoredMessage>* dead_lettered) {
  if (fifo()) {
    ReceiveFifo(max, visibility_ms, max_receive_count, now, delivered, dead_lettered);
  } else {
    ReceiveStandard(max, visibility_ms, max_receive_count, now, delivered, dead_lettered);
  }
}

void Queue::DeliverOrDeadLetter(StoredMessage& m, Millis visibility_ms, int max_receive_count,
                                Millis now, std::vector<const StoredMessage*>* delivered,
                                std::vector<StoredMessage>* dead_lettered) {
  // SQS's rule: a message already received maxReceiveCount times is moved
  // instead of being received again.
  if (max_receive_count > 0 && m.receive_count >= static_cast<uint32_t>(max_receive_count)) {
    dead_lettered->push_back(Remove(m.seq, /*moved=*/true));
    ++counters_.dead_lettered;
    return;
  }
  Deliver(m, visibility_ms, now);
  delivered->push_back(&m);
}

void Queue::ReceiveStandard(int max, Millis visibility_ms, int max_receive_count, Millis now,
                            std::vector<const StoredMessage*>* delivered,
                            std::vector<StoredMessage>* dead_lettered) {
  auto it = visible_.begin();
  while (static_cast<int>(delivered->size()) < max && it != visible_.end()) {
    StoredMessage& m = messages_.at(*it);
    ++it;  // Deliver and Remove erase m's entry, never the next one
    DeliverOrDeadLetter(m, visibility_ms, max_receive_count, now, delivered, dead_lettered);
  }
}

void Queue::ReceiveFifo(int max, Millis visibility_ms, int max_receive_count, Millis now,
                        std::vector<const StoredMessage*>* delivered,
                        std::vector<StoredMessage>* dead_lettered) {
  // Take the ready group whose first message is oldest, deliver its messages
  // in order while they are visible, then move on to the next ready group.
  // Delivering a group's first message holds the group, so it leaves
  // ready_groups_ and is never visited twice in one receive.
  while (static_cast<int>(delivered->size()) < max && !ready_groups_.empty()) {
    const std::string group_id = ready_groups_.begin()->second;
    uint64_t after = 0;
    while (static_cast<int>(delivered->size()) < max) {
      auto g = groups_.find(group_id);
      if (g == groups_.end()) break;
      auto next = g->second.seqs.upper_bound(after);
      if (next == g->second.seqs.end()) break;
      StoredMessage& m = messages_.at(*next);
      if (m.state != MessageState::kVisible) break;
      after = m.seq;
      DeliverOrDeadLetter(m, visibility_ms, max_receive_count, now, delivered, dead_lettered);
    }
  }
}

void Queue::VisitFrom(uint64_t seq, const std::function<bool(const StoredMessage&)>& visit) const {
  for (auto it = messages_.lower_bound(seq); it != messages_.end() && visit(it->second); ++it) {
  }
}

const StoredMessage* Queue::Find(uint64_t seq) const {
  auto it = messages_.find(seq);
  return it == messages_.end() ? nullptr : &it->second;
}

void Queue::Delete(uint64_t seq) {
  Remove(seq, /*moved=*/false);
  ++counters_.deleted;
}

void Queue::ChangeVisibility(uint64_t seq, Millis timeout_ms, Millis now) {
  StoredMessage& m = messages_.at(seq);
  assert(m.state == MessageState::kInFlight);
  Detach(m);
  Attach(m, MessageState::kInFlight, now + timeout_ms);
  journal_->MessageChanged(*this, m);
}

std::unique_ptr<Queue::Dropped> Queue::Purge() {
  counters_.purged += messages_.size();
  journal_->QueuePurged(*this);
  auto dropped = std::make_unique<Dropped>();
  dropped->messages_.swap(messages_);
  dropped->visible_.swap(visible_);
  dropped->timers_.swap(timers_);
  dropped->by_age_.swap(by_age_);
  dropped->groups_.swap(groups_);
  dropped->ready_groups_.swap(ready_groups_);
  visible_count_ = in_flight_count_ = delayed_count_ = 0;
  return dropped;
}

namespace {

// Erases up to `budget` entries from the front of `c`; returns how many.
template <typename Container>
size_t EraseSome(Container& c, size_t budget) {
  size_t erased = 0;
  for (; erased < budget && !c.empty(); ++erased) c.erase(c.begin());
  return erased;
}

}  // namespace

size_t Queue::Dropped::FreeSome(size_t budget) {
  size_t freed = EraseSome(messages_, budget);
  freed += EraseSome(visible_, budget - freed);
  freed += EraseSome(timers_, budget - freed);
  freed += EraseSome(by_age_, budget - freed);
  freed += EraseSome(ready_groups_, budget - freed);
  // A FIFO group holds the positions of all its messages: emptied a slice
  // at a time too, however large it is.
  while (freed < budget && !groups_.empty()) {
    auto group = groups_.begin();
    freed += EraseSome(group->second.seqs, budget - freed);
    if (!group->second.seqs.empty() || freed == budget) break;
    groups_.erase(group);
    ++freed;
  }
  return freed;
}

std::vector<StoredMessage> Queue::TakeVisible(int max) {
  std::vector<uint64_t> seqs;
  if (fifo()) {
    for (const auto& [seq, m] : messages_) {
      if (static_cast<int>(seqs.size()) >= max) break;
      if (m.state == MessageState::kVisible) seqs.push_back(seq);
    }
  } else {
    for (auto it = visible_.begin(); it != visible_.end() && static_cast<int>(seqs.size()) < max;
         ++it) {
      seqs.push_back(*it);
    }
  }
  std::vector<StoredMessage> out;
  out.reserve(seqs.size());
  for (uint64_t seq : seqs) out.push_back(Remove(seq, /*moved=*/true));
  return out;
}

Millis Queue::OldestMessageAge(Millis now) const {
  // Delayed messages are skipped: a message nobody may receive yet should not
  // raise latency alarms.
  for (const auto& [enqueued_at, seq] : by_age_) {
    if (messages_.at(seq).state != MessageState::kDelayed) return now - enqueued_at;
  }
  return 0;
}

}  // namespace sluice
