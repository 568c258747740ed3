// Storage's compaction, the I/O of it: the run the policy picks
// (compaction_policy.h) is copied forward a slice a turn, then deleted
// (broker/storage/storage.h, "Compaction"; docs/storage.md gives the reasons).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "broker/engine/queue.h"
#include "broker/storage/storage.h"
#include "broker/storage/storage_estimates.h"

namespace sluice {

bool Storage::WriteCompaction() {
  if (!log_->HasPending()) return true;
  if (Status s = log_->Write(); !s.ok()) {
    spdlog::warn("event=compaction_abandoned error=\"{}\" free_bytes={}", s.detail(), free_bytes_);
    compaction_.reset();
    // Not tried again before the next look at the disk (RefreshDiskSpace,
    // once a tick), so a disk that stays full costs one attempt a tick.
    free_bytes_ = 0;
    return false;
  }
  syncer_->Wrote();
  unsynced_ = options_.fsync == FsyncMode::kInterval;
  return true;
}

uint64_t Storage::LiveMessageBytes() const {
  uint64_t bytes = 0;
  for (const auto& [segment, live] : live_by_segment_) bytes += live.bytes;
  return bytes;
}

uint64_t Storage::LiveMessagesThrough(uint32_t segment) const {
  uint64_t messages = 0;
  for (auto it = live_by_segment_.begin(); it != live_by_segment_.end() && it->first <= segment;
       ++it) {
    messages += it->second.messages;
  }
  return messages;
}

void Storage::CountLive(const StoredMessage& m) {
  LiveInSegment& live = live_by_segment_[SegmentOf(m.body_ref)];
  live.bytes += LiveBytes(m);
  ++live.messages;
}

void Storage::UncountLive(const StoredMessage& m, uint64_t body_ref) {
  LiveInSegment& live = live_by_segment_[SegmentOf(body_ref)];
  if (live.messages == 0 || live.bytes < LiveBytes(m)) {
    // A count too low could end a compaction's walk before a live message:
    // from now on compactions walk every queue to its end.
    spdlog::error("event=live_count_mismatch segment={} messages={} message_id={}",
                  SegmentOf(body_ref), live.messages, m.message_id);
    live_counts_trusted_ = false;
  }
  live.bytes -= std::min(live.bytes, LiveBytes(m));
  live.messages -= std::min<uint64_t>(live.messages, 1);
}

void Storage::MoveLive(const StoredMessage& m, uint64_t from_ref) {
  UncountLive(m, from_ref);
  CountLive(m);
}

Status Storage::MaybeStartCompaction() {
  const std::vector<std::pair<uint32_t, uint64_t>> segments = log_->SegmentSizes();
  const std::optional<CompactionRun> run = PickCompactionRun(LogSpace{
      segments, &live_by_segment_, dedup_bytes_, queues_.size(), options_.copy_slack_bytes});
  if (!run) return Status::Ok();
  const uint32_t boundary = run->boundary;
  const uint64_t copy_bytes = run->copy_bytes;
  // The copies need room until the old segments go: on a disk too full for
  // them, receives and deletes keep the reserve, and compaction waits until
  // deletes (or the operator) have made room.
  if (free_bytes_ < copy_bytes + kCompactMinGarbageBytes) {
    if (!compaction_deferred_) {
      spdlog::warn("event=compaction_deferred reason=disk_space free_bytes={} needed_bytes={}",
                   free_bytes_, copy_bytes + kCompactMinGarbageBytes);
    }
    compaction_deferred_ = true;
    return Status::Ok();
  }
  compaction_deferred_ = false;
  // The run ends with a whole segment: the one appended to is ended first.
  if (boundary == segments.back().first) {
    if (auto ended = log_->Rotate(); !ended.ok()) return ended.status();
  }
  compaction_ = Compaction{boundary, 0, 0};
  spdlog::info(
      "event=compaction_started log_bytes={} through_segment={} copy_bytes={} live_bytes={}",
      log_->bytes(), boundary, copy_bytes, LiveMessageBytes() + dedup_bytes_);
  // The queues, the meta record, the move tasks and the deduplication ids
  // come first, in batches of bounded size; messages follow a slice per turn.
  AppendMeta();
  if (move_tasks_ != nullptr) AppendMoveTasks();
  bool written = true;
  // Not a structured binding: clang before 16 cannot capture one.
  for (const auto& queue : queues_) {
    const Queue* q = queue.second;
    AppendQueue(*q);
    q->dedup().ForEach([&, q](const std::string& id, const DedupWindow::Entry& entry) {
      if (!written) return;
      AppendDedup(*q, id, entry);
      if (log_->pending_bytes() >= kCompactSliceBytes) written = WriteCompaction();
    });
    if (!written) return Status::Ok();
  }
  WriteCompaction();
  return Status::Ok();
}

Status Storage::CompactSlice() {
  if (!compaction_->dropped) {
    if (Status s = CopySlice(); !s.ok() || !compaction_ || !compaction_->dropped) return s;
  }
  // The run is deleted; its files close one a turn (CloseOneDeletedSegment).
  if (log_->HasDropped()) return Status::Ok();
  spdlog::info("event=compaction_done log_bytes={} live_bytes={}", log_->bytes(),
               LiveMessageBytes() + dedup_bytes_);
  compaction_.reset();
  return Status::Ok();
}

Status Storage::CopySlice() {
  Compaction& c = *compaction_;
  // The run's live messages not copied yet; all of them lie ahead of the
  // walk (a queue's new messages have new bodies), so once that many are
  // found the walk is over.
  const uint64_t to_copy = LiveMessagesThrough(c.boundary);
  // Where the slice's messages were, to account for (or point back to,
  // should the write fail).
  std::vector<std::pair<const StoredMessage*, uint64_t>> moved;
  int looked_at = 0;
  auto slice_full = [&] {
    return log_->pending_bytes() >= kCompactSliceBytes || looked_at >= kCompactSliceMessages;
  };
  bool walked = live_counts_trusted_ && to_copy == 0;
  for (auto q = queues_.lower_bound(c.queue); !walked && !slice_full();
       q = queues_.lower_bound(c.queue)) {
    if (q == queues_.end()) {
      walked = true;
      break;
    }
    if (q->first != c.queue) c = Compaction{c.boundary, q->first, 0};
    // The queue does not change during the walk: it ends at the slice's end,
    // after the queue's last message (then on to the next queue), once every
    // message to copy is found, or at a failed read.
    bool stopped = false;
    Status read;
    std::string body;
    q->second->VisitFrom(c.seq, [&](const StoredMessage& m) {
      stopped = slice_full();
      if (stopped) return false;
      c.seq = m.seq + 1;
      ++looked_at;
      if (SegmentOf(m.body_ref) > c.boundary) return true;
      read = log_->Read(m.body_ref, m.body_size, &body);
      if (!read.ok()) return false;
      moved.emplace_back(&m, m.body_ref);
      AppendMessage(*q->second, m, body);
      walked = live_counts_trusted_ && moved.size() == to_copy;
      stopped = walked;
      return !stopped;
    });
    if (!read.ok()) return read;
    if (!stopped) c = Compaction{c.boundary, q->first + 1, 0};
  }
  if (!WriteCompaction()) {
    for (const auto& [m, ref] : moved) m->body_ref = ref;
    return Status::Ok();
  }
  for (const auto& [m, ref] : moved) MoveLive(*m, ref);
  if (!walked) return Status::Ok();
  // Every live message of the run is now further on: once that is durable,
  // the run can go.
  if (Status s = log_->Sync(); !s.ok()) return s;
  if (Status s = log_->DropThrough(c.boundary); !s.ok()) return s;
  const auto run_end = live_by_segment_.upper_bound(c.boundary);
  for (auto it = live_by_segment_.begin(); it != run_end; ++it) {
    // A count too high (the walk went to the end of every queue): logged, as
    // a count that is wrong at all.
    if (it->second.messages > 0) {
      spdlog::error("event=live_count_mismatch segment={} messages={}", it->first,
                    it->second.messages);
    }
  }
  live_by_segment_.erase(live_by_segment_.begin(), run_end);
  c.dropped = true;
  return Status::Ok();
}

}  // namespace sluice
