#include "broker/storage/replay.h"

#include "broker/storage/record_codec.h"
#include "broker/storage/storage_status.h"

namespace sluice {
namespace {

Status ApplyMeta(std::string_view payload, RecoveredState* state) {
  auto meta = DecodeMeta(payload);
  if (!meta.ok()) return meta.status();
  state->meta = std::move(*meta);
  state->has_meta = true;
  return Status::Ok();
}

Status ApplyQueue(std::string_view payload, RecoveredState* state) {
  auto q = DecodeQueue(payload);
  if (!q.ok()) return q.status();
  const uint64_t incarnation = q->incarnation();
  state->queues[incarnation] = std::move(*q);
  return Status::Ok();
}

Status ApplyQueueDeleted(std::string_view payload, RecoveredState* state) {
  QueueKey k;
  if (!Decode(&payload, &k)) return Corrupt("short queue deletion record");
  const uint64_t incarnation = k.incarnation;
  state->queues.erase(incarnation);
  auto& messages = state->messages;
  messages.erase(messages.lower_bound({incarnation, 0}),
                 messages.lower_bound({incarnation + 1, 0}));
  auto& dedups = state->dedups;
  dedups.erase(dedups.lower_bound({incarnation, ""}), dedups.lower_bound({incarnation + 1, ""}));
  return Status::Ok();
}

// kMessage and kMessageMoved: the message, whole, replacing any earlier
// record of it.
Status ApplyMessage(const LogRecord& r, RecoveredState* state) {
  auto decoded = DecodeMessage(r);
  if (!decoded.ok()) return decoded.status();
  const uint64_t seq = decoded->message.seq;
  state->messages.insert_or_assign({decoded->incarnation, seq}, std::move(decoded->message));
  return Status::Ok();
}

Status ApplyMessageState(std::string_view payload, RecoveredState* state) {
  auto s = DecodeState(payload);
  if (!s.ok()) return s.status();
  auto it = state->messages.find({s->incarnation, s->seq});
  if (it != state->messages.end()) ApplyState(*s, &it->second);
  return Status::Ok();
}

Status ApplyMessageRemoved(std::string_view payload, RecoveredState* state) {
  MessageKey k;
  if (!Decode(&payload, &k)) return Corrupt("short message removal record");
  state->messages.erase({k.incarnation, k.seq});
  return Status::Ok();
}

Status ApplyQueuePurged(std::string_view payload, RecoveredState* state) {
  PurgeMark p;
  if (!Decode(&payload, &p)) return Corrupt("short purge record");
  auto& messages = state->messages;
  messages.erase(messages.lower_bound({p.incarnation, 0}),
                 messages.lower_bound({p.incarnation, p.next_seq}));
  return Status::Ok();
}

Status ApplyDedup(std::string_view payload, RecoveredState* state) {
  auto d = DecodeDedup(payload);
  if (!d.ok()) return d.status();
  state->dedups[{d->incarnation, std::move(d->id)}] = std::move(d->entry);
  return Status::Ok();
}

Status ApplyDedupForgotten(std::string_view payload, RecoveredState* state) {
  QueueKey k;
  if (!Decode(&payload, &k)) return Corrupt("short deduplication record");
  state->dedups.erase({k.incarnation, std::string(payload)});
  return Status::Ok();
}

Status ApplyMoveTasks(std::string_view payload, RecoveredState* state) {
  auto tasks = DecodeMoveTasks(payload);
  if (!tasks.ok()) return tasks.status();
  state->move_tasks = std::move(*tasks);
  return Status::Ok();
}

}  // namespace

Status ApplyRecord(const LogRecord& r, RecoveredState* state) {
  switch (r.type) {
    case kMeta:
      return ApplyMeta(r.payload, state);
    case kQueue:
      return ApplyQueue(r.payload, state);
    case kQueueDeleted:
      return ApplyQueueDeleted(r.payload, state);
    case kMessage:
    case kMessageMoved:
      return ApplyMessage(r, state);
    case kMessageState:
      return ApplyMessageState(r.payload, state);
    case kMessageRemoved:
      return ApplyMessageRemoved(r.payload, state);
    case kQueuePurged:
      return ApplyQueuePurged(r.payload, state);
    case kDedup:
      return ApplyDedup(r.payload, state);
    case kDedupForgotten:
      return ApplyDedupForgotten(r.payload, state);
    case kMoveTasks:
      return ApplyMoveTasks(r.payload, state);
    default:
      return Corrupt("unknown record type " + std::to_string(r.type));
  }
}

}  // namespace sluice
