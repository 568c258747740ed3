#include "broker/storage/storage.h"

#include <spdlog/spdlog.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>

#include "broker/engine/queue.h"
#include "broker/engine/validation.h"
#include "broker/storage/record_codec.h"
#include "broker/storage/replay.h"
#include "broker/storage/storage_estimates.h"
#include "broker/storage/storage_status.h"

namespace sluice {
namespace {

// A receive reads the bodies it delivers in runs: bodies at most
// kReadGapBytes apart (a message's other fields lie between bodies sent
// together) share one read of at most kReadSpanBytes.
constexpr uint64_t kReadGapBytes = 4096;
constexpr uint64_t kReadSpanBytes = 1 << 20;

}  // namespace

Result<FsyncMode> ParseFsyncMode(const std::string& text) {
  if (text == "always") return FsyncMode::kAlways;
  if (text == "interval") return FsyncMode::kInterval;
  if (text == "never") return FsyncMode::kNever;
  return Status(StatusCode::kInvalidArgument,
                "--fsync must be always, interval or never, not '" + text + "'");
}

Storage::Storage(std::unique_ptr<SegmentLog> log, std::string dir, StorageOptions options)
    : log_(std::move(log)), options_(options), dir_(std::move(dir)) {}

Result<std::unique_ptr<Storage>> Storage::Open(const std::string& dir, StorageOptions options) {
  auto log = SegmentLog::Open(dir + "/log", options.files);
  if (!log.ok()) return log.status();
  std::unique_ptr<Storage> storage(new Storage(std::move(*log), dir, options));
  storage->recovered_ = std::make_unique<RecoveredState>();
  RecoveredState& recovered = *storage->recovered_;
  if (Status s =
          storage->log_->Replay([&](const LogRecord& r) { return ApplyRecord(r, &recovered); });
      !s.ok()) {
    return s;
  }
  if (recovered.has_meta) {
    storage->receipt_secret_ = recovered.meta.receipt_secret();
    storage->next_incarnation_ = std::max<uint64_t>(1, recovered.meta.next_incarnation());
  } else {
    std::random_device rd;
    storage->receipt_secret_ = (static_cast<uint64_t>(rd()) << 32) ^ rd() ^ 1;
    storage->AppendMeta();
    if (Status s = storage->log_->Write(); !s.ok()) return s;
    if (Status s = storage->log_->Sync(); !s.ok()) return s;
  }
  auto syncer = Syncer::Create([log = storage->log_.get()] { return log->Sync(); });
  if (!syncer.ok()) return syncer.status();
  storage->syncer_ = std::move(*syncer);
  storage->RefreshDiskSpace();
  return storage;
}

Status Storage::Recover(Engine* engine) {
  RecoveredState& r = *recovered_;
  size_t messages = 0;
  std::map<uint64_t, Queue*> restored;    // by incarnation
  std::map<std::string, uint64_t> names;  // the incarnation of each name
  for (const auto& [incarnation, record] : r.queues) {
    // A log never holds two live queues of one name (a queue is deleted,
    // and so recorded, before its name is used again); the engine would
    // keep only the second, and the messages of the first would have no
    // queue.
    if (auto [it, added] = names.emplace(record.name(), incarnation); !added) {
      return Corrupt("queue records of incarnations " + std::to_string(it->second) + " and " +
                     std::to_string(incarnation) + " both name queue " + record.name() +
                     ", and neither was deleted");
    }
    QueueConfig config;
    AttributeMap attributes(record.attributes().begin(), record.attributes().end());
    if (Status s = ApplyAttributes(attributes, /*creating=*/true, &config); !s.ok()) {
      return Corrupt("queue record " + record.name() + ": " + s.detail());
    }
    Queue* q = engine->RestoreQueue(record.name(), incarnation, config, record.created_at());
    q->RestoreCounters(record.next_seq(), record.next_receipt_seq(), record.next_sequence_number(),
                       record.last_modified_at());
    q->RestoreTags(TagMap(record.tags().begin(), record.tags().end()));
    queues_[incarnation] = q;
    restored[incarnation] = q;
  }
  // Each message is handed over and its node freed at once, so recovery
  // does not hold every message twice.
  std::map<uint32_t, uint64_t> segment_bytes;
  for (const auto& [number, bytes] : log_->SegmentSizes()) segment_bytes[number] = bytes;
  while (!r.messages.empty()) {
    auto node = r.messages.extract(r.messages.begin());
    auto q = restored.find(node.key().first);
    if (q == restored.end()) {
      return Corrupt("message of unknown queue incarnation " + std::to_string(node.key().first));
    }
    StoredMessage& m = node.mapped();
    const auto segment = segment_bytes.find(SegmentOf(m.body_ref));
    if (segment == segment_bytes.end()) {
      return Corrupt("the body of message " + m.message_id + " is in log segment " +
                     std::to_string(SegmentOf(m.body_ref)) + ", which is missing");
    }
    // A moved message's record says where its body is; only a damaged one
    // says past the end of the segment.
    if ((m.body_ref & 0xffffffffu) + m.body_size > segment->second) {
      return Corrupt("the body of message " + m.message_id + " (" + std::to_string(m.body_size) +
                     " bytes at offset " + std::to_string(m.body_ref & 0xffffffffu) +
                     ") runs past the end of log segment " + std::to_string(segment->first));
    }
    CountLive(m);
    q->second->Restore(std::move(m));
    ++messages;
  }
  for (const auto& [key, entry] : r.dedups) {
    auto q = restored.find(key.first);
    if (q == restored.end()) return Corrupt("deduplication id of an unknown queue");
    q->second->RestoreDedup(key.second, entry);
    dedup_bytes_ += key.second.size() + kDedupOverheadBytes;
  }
  engine->RestoreMoveTasks(MoveTasksOf(r.move_tasks), r.move_tasks.next_id());
  move_tasks_ = &engine->move_tasks();
  engine->ReserveIncarnations(next_incarnation_);
  spdlog::info(
      "event=recovered queues={} messages={} deduplication_ids={} move_tasks={} log_bytes={}",
      r.queues.size(), messages, r.dedups.size(), move_tasks_->all().size(), log_->bytes());
  recovered_.reset();
  return Status::Ok();
}

void Storage::RefreshDiskSpace() {
  std::optional<uint64_t> free_space;
  if (options_.free_space) {
    free_space = options_.free_space();
  } else if (struct statvfs fs; ::statvfs(dir_.c_str(), &fs) == 0) {
    free_space = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
  }
  if (!free_space) return;
  const uint64_t free_bytes = *free_space;
  free_bytes_ = free_bytes;
  const bool low = free_bytes < options_.reserve_bytes;
  if (low != disk_low_) {
    if (low) {
      spdlog::error("event=disk_low free_bytes={} reserve_bytes={} action=refusing_sends",
                    free_bytes, options_.reserve_bytes);
    } else {
      spdlog::info("event=disk_ok free_bytes={} reserve_bytes={} action=accepting_sends",
                   free_bytes, options_.reserve_bytes);
    }
  }
  disk_low_ = low;
}

Storage::~Storage() = default;

void Storage::MarkSynced() {
  // Only a help to recovery: a disk too full for it loses nothing.
  if (Status s = log_->MarkSynced(); !s.ok()) {
    spdlog::debug("event=sync_mark_failed error=\"{}\"", s.detail());
  }
}

void Storage::AppendMeta() {
  log_->Append(kMeta, {EncodeMeta(receipt_secret_, next_incarnation_)});
}

void Storage::AppendQueue(const Queue& q) { log_->Append(kQueue, {EncodeQueue(q)}); }

void Storage::AppendMoveTasks() { log_->Append(kMoveTasks, {EncodeMoveTasks(*move_tasks_)}); }

void Storage::AppendMessage(const Queue& q, const StoredMessage& m, const std::string& body) {
  const uint32_t body_size = static_cast<uint32_t>(body.size());
  const EncodedMessage e = EncodeMessage(q.incarnation(), m, 0, body_size);
  const LogPosition at = log_->Append(kMessage, {View(e.header), e.record, body});
  m.body_ref = at + e.size();
  m.body_size = body_size;
}

void Storage::AppendDedup(const Queue& q, const std::string& id, const DedupWindow::Entry& entry) {
  const DedupHeader h{q.incarnation(), static_cast<uint32_t>(id.size())};
  log_->Append(kDedup, {View(Encode(h)), id, EncodeDedupEntry(entry)});
}

void Storage::QueueChanged(const Queue& q) {
  dirty_[q.incarnation()] = &q;
  queues_[q.incarnation()] = &q;
  if (q.incarnation() >= next_incarnation_) {
    next_incarnation_ = q.incarnation() + 1;
    AppendMeta();
  }
}

void Storage::QueueDeleted(const Queue& q) {
  dirty_.erase(q.incarnation());
  queues_.erase(q.incarnation());
  q.dedup().ForEach([this](const std::string& id, const DedupWindow::Entry&) {
    dedup_bytes_ -= std::min(dedup_bytes_, id.size() + kDedupOverheadBytes);
  });
  log_->Append(kQueueDeleted, {View(Encode(QueueKey{q.incarnation()}))});
}

void Storage::MessageAdded(const Queue& q, const StoredMessage& m, bool new_body) {
  dirty_[q.incarnation()] = &q;
  if (new_body) {
    AppendMessage(q, m, m.body);
    CountLive(m);
    return;
  }
  // A moved message whose body is in a segment a compaction is about to
  // delete takes its body along, as the compaction would have.
  if (compaction_ && SegmentOf(m.body_ref) <= compaction_->boundary) {
    std::string body;
    if (Status s = log_->Read(m.body_ref, m.body_size, &body); !s.ok()) {
      failure_ = s;
      return;
    }
    const uint64_t from = m.body_ref;
    AppendMessage(q, m, body);
    MoveLive(m, from);
    return;
  }
  const EncodedMessage e = EncodeMessage(q.incarnation(), m, m.body_ref, m.body_size);
  log_->Append(kMessageMoved, {View(e.header), e.record});
}

void Storage::MessageChanged(const Queue& q, const StoredMessage& m) {
  dirty_[q.incarnation()] = &q;
  log_->Append(kMessageState, {View(Encode(StateOf(q.incarnation(), m)))});
}

void Storage::MessageRemoved(const Queue& q, const StoredMessage& m, bool moved) {
  dirty_[q.incarnation()] = &q;
  log_->Append(kMessageRemoved, {View(Encode(MessageKey{q.incarnation(), m.seq}))});
  if (!moved) UncountLive(m, m.body_ref);
}

void Storage::QueuePurged(const Queue& q) {
  dirty_[q.incarnation()] = &q;
  q.VisitFrom(0, [this](const StoredMessage& m) {
    UncountLive(m, m.body_ref);
    return true;
  });
  log_->Append(kQueuePurged, {View(Encode(PurgeMark{q.incarnation(), q.next_seq()}))});
}

void Storage::DedupRemembered(const Queue& q, const std::string& id,
                              const DedupWindow::Entry& entry) {
  AppendDedup(q, id, entry);
  dedup_bytes_ += id.size() + kDedupOverheadBytes;
}

void Storage::DedupForgotten(const Queue& q, const std::string& id) {
  log_->Append(kDedupForgotten, {View(Encode(QueueKey{q.incarnation()})), id});
  dedup_bytes_ -= std::min<uint64_t>(dedup_bytes_, id.size() + kDedupOverheadBytes);
}

void Storage::MoveTasksChanged() { move_tasks_dirty_ = true; }

void Storage::ReadBodies(const std::vector<BodyRead>& reads) {
  // Bodies sent together lie together: in position order, each run of bodies
  // at most kReadGapBytes apart in one segment is read at once.
  std::vector<const BodyRead*> order;
  order.reserve(reads.size());
  for (const BodyRead& r : reads) order.push_back(&r);
  std::sort(order.begin(), order.end(), [](const BodyRead* a, const BodyRead* b) {
    return a->message->body_ref < b->message->body_ref;
  });
  std::string span;
  for (size_t first = 0, last; first < order.size(); first = last) {
    const LogPosition start = order[first]->message->body_ref;
    LogPosition end = start + order[first]->message->body_size;
    for (last = first + 1; last < order.size(); ++last) {
      const StoredMessage& m = *order[last]->message;
      if (SegmentOf(m.body_ref) != SegmentOf(start) || m.body_ref > end + kReadGapBytes ||
          m.body_ref + m.body_size - start > kReadSpanBytes) {
        break;
      }
      end = std::max<LogPosition>(end, m.body_ref + m.body_size);
    }
    if (log_->Read(start, static_cast<uint32_t>(end - start), &span).ok()) {
      for (size_t i = first; i < last; ++i) {
        const StoredMessage& m = *order[i]->message;
        order[i]->body->assign(span, m.body_ref - start, m.body_size);
      }
      continue;
    }
    // Damage somewhere in the run: each body on its own, so that one bad
    // body does not take its neighbours with it.
    for (size_t i = first; i < last; ++i) {
      const StoredMessage& m = *order[i]->message;
      if (Status s = log_->Read(m.body_ref, m.body_size, order[i]->body); !s.ok()) {
        spdlog::error("event=body_read_failed message_id={} error=\"{}\"", m.message_id,
                      s.detail());
        order[i]->body->clear();
      }
    }
  }
}

Status Storage::Commit() {
  for (const auto& [incarnation, q] : dirty_) AppendQueue(*q);
  dirty_.clear();
  if (move_tasks_dirty_) AppendMoveTasks();
  move_tasks_dirty_ = false;
  if (!failure_.ok()) return failure_;
  const bool wrote = log_->HasPending();
  const uint32_t segment = log_->active_segment();
  if (Status s = log_->Write(); !s.ok()) return s;
  // Writes into a segment take no free space (its blocks were reserved);
  // a new segment reserves the next spare's.
  if (log_->active_segment() != segment) RefreshDiskSpace();
  if (wrote) {
    syncer_->Wrote();
    unsynced_ = options_.fsync == FsyncMode::kInterval;
  }
  // A compaction's own writes come after the turn's, in batches of their
  // own: if the disk is full they are given up, and the turn stands.
  const bool was_compacting = compaction_.has_value();
  if (!compaction_) {
    if (Status s = MaybeStartCompaction(); !s.ok()) return s;
  }
  if (!compaction_) return Status::Ok();
  if (Status s = CompactSlice(); !s.ok()) return s;
  // A run that qualified while the last compaction was under way starts now,
  // not at the next write (an idle broker may make none).
  if (was_compacting && !compaction_) return MaybeStartCompaction();
  return Status::Ok();
}

std::optional<Millis> Storage::NextSync() const {
  if (!unsynced_) return std::nullopt;
  return last_sync_ + kIntervalMs;
}

Status Storage::SyncIfDue(Millis now) {
  if (!unsynced_ || now < last_sync_ + kIntervalMs) return Status::Ok();
  unsynced_ = false;
  last_sync_ = now;
  return log_->Sync();
}

}  // namespace sluice
