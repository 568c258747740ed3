// Queue: one queue's messages and the rules that move them between states.
//
// A message is delayed, visible or in flight. Sends enter delayed or visible;
// receives move visible messages in flight with a new receipt; a visibility
// timeout or delay that runs out makes a message visible again; deletes,
// retention expiry, purges and dead-letter moves take it out. A FIFO queue
// delivers each message group in order and holds a group while any of its
// messages is in flight.
//
// The queue never reads a clock: every call that depends on time takes `now`,
// and Advance(now) must be called before the others so timers are current.
// Cross-queue work (dead-letter targets, move tasks) is the Engine's.
//
// Every change is reported to the queue's Journal. When the journal keeps
// message bodies, they live in its storage, not in memory (an empty body
// means "stored").
#ifndef SLUICE_BROKER_ENGINE_QUEUE_H_
#define SLUICE_BROKER_ENGINE_QUEUE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "broker/engine/dedup_window.h"
#include "broker/engine/journal.h"
#include "broker/engine/queue_config.h"
#include "broker/engine/receive_attempts.h"
#include "broker/engine/stored_message.h"
#include "common/clock.h"
#include "common/status.h"

namespace sluice {

// Counters of what has happened to a queue's messages since it was created.
struct QueueCounters {
  uint64_t sent = 0;
  uint64_t received = 0;  // deliveries, so a message received twice counts twice
  uint64_t deleted = 0;
  uint64_t dead_lettered = 0;  // moved out to the dead-letter queue
  uint64_t expired = 0;        // dropped at the end of the retention period
  uint64_t purged = 0;
};

class Queue {
 public:
  // `journal` must outlive the queue.
  Queue(std::string name, uint64_t incarnation, QueueConfig config, Millis now, Journal* journal);

  Queue(const Queue&) = delete;
  Queue& operator=(const Queue&) = delete;

  const std::string& name() const { return name_; }
  uint64_t incarnation() const { return incarnation_; }
  const QueueConfig& config() const { return config_; }
  bool fifo() const { return config_.fifo; }
  Millis created_at() const { return created_at_; }
  Millis last_modified_at() const { return last_modified_at_; }
  void SetConfig(const QueueConfig& config, Millis now);
  // Cost-allocation tags: metadata that changes nothing else, nor
  // LastModifiedTimestamp (as in SQS).
  const TagMap& tags() const { return tags_; }
  void SetTags(TagMap tags);

  // Makes delayed and in-flight messages whose time has come visible, and
  // drops messages past the retention period and stale deduplication ids.
  void Advance(Millis now);
  // The earliest time at which Advance would change something, if any.
  std::optional<Millis> NextTimer() const;

  // The earlier send of a deduplication id within the window, or nullptr.
  const DedupWindow::Entry* FindDuplicate(const std::string& deduplication_id) const;

  // Adds a validated message, delayed by `delay_ms`; assigns its position
  // and, on a FIFO queue, its sequence number (and remembers its
  // deduplication id). `message.enqueued_at` must be set by the caller. A
  // message with a body is new; one without has its body in the journal's
  // storage already (a dead-letter move or redrive).
  const StoredMessage& Enqueue(StoredMessage message, Millis delay_ms, Millis now);

  // Starts the deduplication window of `message`'s id. Enqueue does it on a
  // FIFO queue; on a standard queue only a send with an id asks for it (a
  // move into the queue is not a send).
  void RememberDeduplicationId(const StoredMessage& message, Millis now);

  // Recovery: puts back a message exactly as it was recorded, and the
  // counters and deduplication ids; none of it is reported to the journal.
  void Restore(StoredMessage message);
  void RestoreCounters(uint64_t next_seq, uint64_t next_receipt_seq, uint64_t next_sequence_number,
                       Millis last_modified_at);
  void RestoreTags(TagMap tags) { tags_ = std::move(tags); }
  void RestoreDedup(const std::string& id, const DedupWindow::Entry& entry);
  uint64_t next_seq() const { return next_seq_; }
  uint64_t next_receipt_seq() const { return next_receipt_seq_; }
  uint64_t next_sequence_number() const { return next_sequence_number_; }

  // Receives up to `max` messages, making each invisible for `visibility_ms`
  // with a new receipt. When `max_receive_count` > 0, a message already
  // received that many times is not delivered but taken out into
  // `dead_lettered` for the caller to move.
  void Receive(int max, Millis visibility_ms, int max_receive_count, Millis now,
               std::vector<const StoredMessage*>* delivered,
               std::vector<StoredMessage>* dead_lettered);

  // The message at `seq`, or nullptr when it is gone.
  const StoredMessage* Find(uint64_t seq) const;
  // Calls `visit` on each message at `seq` or after, in order, while it
  // returns true (a journal's compaction walks a queue with it). `visit` must
  // not change the queue.
  void VisitFrom(uint64_t seq, const std::function<bool(const StoredMessage&)>& visit) const;
  const DedupWindow& dedup() const { return dedup_; }
  // A FIFO queue's receives by ReceiveRequestAttemptId.
  ReceiveAttempts& receive_attempts() { return receive_attempts_; }
  void Delete(uint64_t seq);
  // Makes an in-flight message visible `timeout_ms` from now (0: at once).
  void ChangeVisibility(uint64_t seq, Millis timeout_ms, Millis now);
  // Takes every message out at once and hands them over, with their
  // indexes, for the caller to free a slice at a time: freeing a million
  // messages in one go would hold up the broker's loop for most of a second.
  class Dropped;
  std::unique_ptr<Dropped> Purge();
  // Takes out up to `max` visible messages, oldest first (for move tasks).
  std::vector<StoredMessage> TakeVisible(int max);

  size_t visible() const { return visible_count_; }
  size_t in_flight() const { return in_flight_count_; }
  size_t delayed() const { return delayed_count_; }
  size_t size() const { return messages_.size(); }
  // Age of the oldest message that is not delayed, 0 when there is none.
  Millis OldestMessageAge(Millis now) const;
  const QueueCounters& counters() const { return counters_; }

 private:
  struct Group {
    std::set<uint64_t> seqs;  // the group's messages in order
    int in_flight = 0;
    std::optional<uint64_t> ready_head;  // key in ready_groups_ while ready
  };

  // Index bookkeeping for a message leaving or entering a state.
  void Detach(StoredMessage& m);
  void Attach(StoredMessage& m, MessageState state, Millis available_at);
  // Recomputes whether a FIFO group can deliver: nothing in flight and its
  // first message visible. Forgets a group with no messages left.
  void RefreshGroup(const std::string& group_id);
  void Deliver(StoredMessage& m, Millis visibility_ms, Millis now);
  void DeliverOrDeadLetter(StoredMessage& m, Millis visibility_ms, int max_receive_count,
                           Millis now, std::vector<const StoredMessage*>* delivered,
                           std::vector<StoredMessage>* dead_lettered);
  // Takes a message out; `moved` when it goes on to another queue.
  StoredMessage Remove(uint64_t seq, bool moved);
  // Inserts `message` into the indexes in the state it carries.
  StoredMessage& Insert(StoredMessage message);
  void ReceiveStandard(int max, Millis visibility_ms, int max_receive_count, Millis now,
                       std::vector<const StoredMessage*>* delivered,
                       std::vector<StoredMessage>* dead_lettered);
  void ReceiveFifo(int max, Millis visibility_ms, int max_receive_count, Millis now,
                   std::vector<const StoredMessage*>* delivered,
                   std::vector<StoredMessage>* dead_lettered);

  const std::string name_;
  const uint64_t incarnation_;
  Journal* const journal_;
  QueueConfig config_;
  TagMap tags_;
  ReceiveAttempts receive_attempts_;
  const Millis created_at_;
  Millis last_modified_at_;

  std::map<uint64_t, StoredMessage> messages_;  // by position; pointers stay valid
  uint64_t next_seq_ = 1;
  uint64_t next_receipt_seq_ = 1;
  uint64_t next_sequence_number_ = 1;

  std::set<uint64_t> visible_;                     // standard queues: visible, oldest first
  std::set<std::pair<Millis, uint64_t>> timers_;   // delayed and in flight, by available_at
  std::set<std::pair<Millis, uint64_t>> by_age_;   // every message, by enqueued_at
  std::unordered_map<std::string, Group> groups_;  // FIFO only
  std::set<std::pair<uint64_t, std::string>> ready_groups_;  // FIFO: by first position
  DedupWindow dedup_;

  size_t visible_count_ = 0;
  size_t in_flight_count_ = 0;
  size_t delayed_count_ = 0;
  QueueCounters counters_;
};

// What a purge took out of a queue.
class Queue::Dropped {
 public:
  // Frees up to `budget` entries (messages and index entries); returns how
  // many it freed.
  size_t FreeSome(size_t budget);
  bool empty() const {
    return messages_.empty() && visible_.empty() && timers_.empty() && by_age_.empty() &&
           ready_groups_.empty() && groups_.empty();
  }

 private:
  friend class Queue;
  std::map<uint64_t, StoredMessage> messages_;
  std::set<uint64_t> visible_;
  std::set<std::pair<Millis, uint64_t>> timers_;
  std::set<std::pair<Millis, uint64_t>> by_age_;
  std::unordered_map<std::string, Group> groups_;
  std::set<std::pair<uint64_t, std::string>> ready_groups_;
};

}  // namespace sluice

#endif  // SLUICE_BROKER_ENGINE_QUEUE_H_
