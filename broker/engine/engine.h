// Engine: the broker's queues and every SQS operation on them.
//
// A pure, deterministic state machine: requests in (the wire protocol's
// messages), responses out, time from the injected Clock and identifiers from
// a seeded generator, so the same requests at the same times give the same
// answers. It does no I/O and is not thread-safe; the server calls it from
// one thread. Long polling is the server's: a receive that finds nothing
// returns an empty answer and the server asks again when NextWakeup says so.
//
// Rules that span queues live here: dead-letter moves, redrive policies and
// message move tasks. Rules of one queue live in Queue.
#ifndef SLUICE_BROKER_ENGINE_ENGINE_H_
#define SLUICE_BROKER_ENGINE_ENGINE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "broker/engine/journal.h"
#include "broker/engine/limits.h"
#include "broker/engine/memory_journal.h"
#include "broker/engine/move_tasks.h"
#include "broker/engine/queue.h"
#include "broker/engine/receipt_handle.h"
#include "common/clock.h"
#include "common/status.h"
#include "sluice.pb.h"

namespace sluice {

struct EngineOptions {
  int inflight_limit = limits::kDefaultInflightLimit;  // per queue; the broker's --max-inflight
  size_t max_queues = limits::kDefaultMaxQueues;       // the broker's --max-queues
  uint64_t seed = 0;  // message ids, and the receipt handle seal when none is given
  // The key that seals receipt handles; a durable broker keeps it so handles
  // stay valid across restarts. 0: drawn from the seed.
  uint64_t receipt_secret = 0;
  Journal* journal = nullptr;  // where changes are recorded; null: a MemoryJournal
  ArnFormat arns = {};         // how answers spell queue ARNs
};

class Engine {
 public:
  Engine(const Clock* clock, EngineOptions options);

  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  Status CreateQueue(const pb::CreateQueueRequest& req, pb::CreateQueueResponse* resp);
  Status DeleteQueue(const pb::DeleteQueueRequest& req, pb::DeleteQueueResponse* resp);
  Status GetQueueUrl(const pb::GetQueueUrlRequest& req, pb::GetQueueUrlResponse* resp);
  Status ListQueues(const pb::ListQueuesRequest& req, pb::ListQueuesResponse* resp);
  Status GetQueueAttributes(const pb::GetQueueAttributesRequest& req,
                            pb::GetQueueAttributesResponse* resp);
  Status SetQueueAttributes(const pb::SetQueueAttributesRequest& req,
                            pb::SetQueueAttributesResponse* resp);
  Status PurgeQueue(const pb::PurgeQueueRequest& req, pb::PurgeQueueResponse* resp);
  Status TagQueue(const pb::TagQueueRequest& req, pb::TagQueueResponse* resp);
  Status UntagQueue(const pb::UntagQueueRequest& req, pb::UntagQueueResponse* resp);
  Status ListQueueTags(const pb::ListQueueTagsRequest& req, pb::ListQueueTagsResponse* resp);
  Status ListDeadLetterSourceQueues(const pb::ListDeadLetterSourceQueuesRequest& req,
                                    pb::ListDeadLetterSourceQueuesResponse* resp);

  Status SendMessage(const pb::SendMessageRequest& req, pb::SendMessageResponse* resp);
  Status SendMessageBatch(const pb::SendMessageBatchRequest& req,
                          pb::SendMessageBatchResponse* resp);
  // Answers at once; an empty answer is for the caller to wait on. Over the
  // in-flight limit it returns OverLimit, which a long poll treats as empty.
  Status ReceiveMessage(const pb::ReceiveMessageRequest& req, pb::ReceiveMessageResponse* resp);
  Status DeleteMessage(const pb::DeleteMessageRequest& req, pb::DeleteMessageResponse* resp);
  Status DeleteMessageBatch(const pb::DeleteMessageBatchRequest& req,
                            pb::DeleteMessageBatchResponse* resp);
  Status ChangeMessageVisibility(const pb::ChangeMessageVisibilityRequest& req,
                                 pb::ChangeMessageVisibilityResponse* resp);
  Status ChangeMessageVisibilityBatch(const pb::ChangeMessageVisibilityBatchRequest& req,
                                      pb::ChangeMessageVisibilityBatchResponse* resp);

  Status StartMessageMoveTask(const pb::StartMessageMoveTaskRequest& req,
                              pb::StartMessageMoveTaskResponse* resp);
  Status CancelMessageMoveTask(const pb::CancelMessageMoveTaskRequest& req,
                               pb::CancelMessageMoveTaskResponse* resp);
  Status ListMessageMoveTasks(const pb::ListMessageMoveTasksRequest& req,
                              pb::ListMessageMoveTasksResponse* resp);

  // How long a receive may wait for messages: its WaitTimeSeconds, or the
  // queue's ReceiveMessageWaitTimeSeconds when it sets none.
  Result<Millis> ReceiveWaitMs(const pb::ReceiveMessageRequest& req) const;

  // Brings every queue's timers up to now and advances message move tasks.
  void Tick();
  // The earliest time at which a message of `queue_name` may become
  // receivable without a request, if any.
  std::optional<Millis> NextWakeup(const std::string& queue_name) const;
  // Whether any message move task is running (the server ticks faster then).
  bool HasRunningMoveTasks() const { return move_tasks_.AnyRunning(); }

  // Purged and deleted queues' messages are gone at once but freed a slice
  // at a time, between the server's turns (Queue::Purge says why).
  bool HasDroppedMessages() const { return !dropped_.empty(); }
  // Frees up to `budget` of their entries.
  void FreeDroppedMessages(size_t budget);

  void ForEachQueue(const std::function<void(const Queue&)>& fn) const;

  // Recovery: re-creates a recorded queue without reporting it to the
  // journal; its messages follow through Queue::Restore. Queues may come back
  // in any order, since redrive targets are looked up by name.
  Queue* RestoreQueue(const std::string& name, uint64_t incarnation, const QueueConfig& config,
                      Millis created_at);
  // Recovery: the recorded message move tasks; those of queues that are gone
  // are dropped, running ones go on at their rate from now (one at once).
  void RestoreMoveTasks(std::list<MoveTask> tasks, uint64_t next_id);
  const MoveTasks& move_tasks() const { return move_tasks_; }
  // Recovery: incarnations below `next` were used (by queues since deleted
  // too) and must not name a new queue, or old receipt handles could match it.
  void ReserveIncarnations(uint64_t next);
  uint64_t receipt_secret() const { return receipt_secret_; }

 private:
  Result<Queue*> FindQueue(const std::string& name);
  Status CheckRedrivePolicy(const std::string& queue_name, const QueueConfig& config) const;
  // A SendMessage or batch entry on `q`, whose body's MD5 is `md5_of_body`;
  // fills `result` (but its id).
  Status SendOne(Queue& q, const pb::SendMessageEntry& entry, std::string md5_of_body,
                 pb::SendMessageResult* result);
  Status DeleteOne(Queue& q, const std::string& receipt_handle);
  Status ChangeVisibilityOne(Queue& q, const std::string& receipt_handle, int timeout_s);
  // Decodes a handle and finds its message: OK with `*seq` set, OK with
  // `*gone` when the message left the queue, or the handle's error.
  Status ResolveHandle(const Queue& q, const std::string& receipt_handle, uint64_t* seq,
                       bool* gone) const;
  void MoveToDeadLetterQueue(const Queue& source, StoredMessage message, Millis now);
  // Fills `out` from `m`, all but a body that the journal holds: that one is
  // added to `body_reads`.
  void FillMessage(const Queue& q, const StoredMessage& m, const pb::ReceiveMessageRequest& req,
                   pb::Message* out, std::vector<Journal::BodyRead>* body_reads) const;
  std::string NewMessageId();
  void RunMoveTasks(Millis now);
  void MoveTasksChanged();

  const Clock* clock_;
  EngineOptions options_;
  MemoryJournal memory_journal_;  // the journal when options_ give none
  Journal* const journal_;
  std::mt19937_64 rng_;
  uint64_t receipt_secret_;
  ReceiptHandleCodec handles_;
  std::map<std::string, std::unique_ptr<Queue>> queues_;  // by name, for ListQueues
  uint64_t next_incarnation_ = 1;
  MoveTasks move_tasks_;
  std::deque<std::unique_ptr<Queue::Dropped>> dropped_;  // oldest first
};

}  // namespace sluice

#endif  // SLUICE_BROKER_ENGINE_ENGINE_H_
