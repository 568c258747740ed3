// Storage: the broker's durable state, a write-ahead log of its own
// (SegmentLog) under the data directory; the engine's memory is the index.
//
// Storage is the Engine's Journal: each change reported during a turn of the
// server's loop becomes a log record, and Commit() writes the turn's records
// with one write. With --fsync always a syncer thread fsyncs while later turns
// run, and the server holds a turn's answers until an fsync covers it, so
// concurrent clients share one fsync: group commit.
// Message bodies stay in the log, not in memory; the engine reads them back
// with ReadBodies. Compaction copies what is still live out of old segments a
// slice per turn, then deletes them. docs/storage.md specifies the records
// and the recovery rules.
//
// Storage is the front of parts that each do one job: record_codec.h encodes
// the records, replay.h reads the log back, syncer.h runs the fsyncs,
// compaction_policy.h picks what to compact (the compactor itself is
// storage_compaction.cc), and SegmentLog writes through file_ops.h.
#ifndef SLUICE_BROKER_STORAGE_STORAGE_H_
#define SLUICE_BROKER_STORAGE_STORAGE_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "broker/engine/engine.h"
#include "broker/engine/journal.h"
#include "broker/storage/compaction_policy.h"
#include "broker/storage/segment_log.h"
#include "broker/storage/syncer.h"
#include "common/clock.h"
#include "common/status.h"

namespace sluice {

struct RecoveredState;

enum class FsyncMode {
  kAlways,    // every commit is fsync'd before its answers leave
  kInterval,  // commits are written at once and fsync'd every interval
  kNever,     // written, never fsync'd: survives a killed broker, not a lost machine
};

// Parses "always", "interval" or "never".
Result<FsyncMode> ParseFsyncMode(const std::string& text);

struct StorageOptions {
  FsyncMode fsync = FsyncMode::kAlways;
  // Free space the broker keeps for receives, deletes and compaction: below
  // it, new messages are refused (see DiskLow).
  uint64_t reserve_bytes = 256ull << 20;
  // How much more garbage than live data a run of segments must hold before
  // a compaction copies its live messages forward (see "Compaction" below);
  // dead segments at the log's head go whatever this is.
  uint64_t copy_slack_bytes = 128ull << 20;
  // The disk's free bytes; statvfs of the data directory when empty (unit
  // tests give a fake, to play a full disk).
  std::function<std::optional<uint64_t>()> free_space = {};
  // The log's writes, reservations and syncs (unit tests give a fake, to
  // play a full disk or a short write).
  FileOps* files = FileOps::System();
};

class Storage final : public Journal {
 public:
  // Opens (or creates) the log in `dir`/log and reads it back. A torn write
  // at the end of the log is dropped with a warning; corruption anywhere else
  // fails here.
  static Result<std::unique_ptr<Storage>> Open(const std::string& dir, StorageOptions options);
  ~Storage() override;

  // The receipt-handle key, made on first open and kept ever after.
  uint64_t receipt_secret() const { return receipt_secret_; }

  // Loads every recorded queue, message and deduplication id into `engine`,
  // which must be empty and have this storage as its journal. Once only.
  Status Recover(Engine* engine);

  // Writes everything reported since the last commit, and a slice of a
  // running compaction, without waiting for the disk. On failure the changes
  // are not acknowledged and the in-memory state is ahead of the disk: the
  // caller must stop (recovery restarts from what is durable).
  Status Commit();
  // Whether Commit has anything to do: reported changes, or a compaction that
  // has not finished (the server then keeps calling it, turn after turn).
  bool HasPending() const {
    return log_->HasPending() || !dirty_.empty() || move_tasks_dirty_ || compaction_.has_value();
  }

  // Whether a compaction is under way: the server then polls without waiting,
  // so that an idle broker finishes it.
  bool Compacting() const { return compaction_.has_value(); }
  // Closes one log segment that a compaction deleted. The server calls it
  // once a turn's answers are out: the last close of a deleted file drops
  // its cached pages, tens of milliseconds for a full segment. The
  // compaction ends in the first commit that finds them all closed.
  void CloseOneDeletedSegment() { log_->CloseDropped(); }

  // FsyncMode::kAlways: what was written is durable once an fsync that
  // started after it ends. Commits are numbered; WrittenGeneration is the
  // last one, SyncedGeneration the last one known durable. RequestSync
  // asks the syncer thread for an fsync of everything written so far: at
  // once, or right after the fsync under way. When one ends, sync_fd()
  // becomes readable and FinishSync says how it went. The server's loop
  // keeps running meanwhile, so the next turn's work overlaps the disk's.
  // (The Syncer does all this; see broker/storage/syncer.h.)
  bool SyncsEachCommit() const { return options_.fsync == FsyncMode::kAlways; }
  uint64_t WrittenGeneration() const { return syncer_->written(); }
  uint64_t SyncedGeneration() const { return syncer_->synced(); }
  void RequestSync() { syncer_->Request(); }
  int sync_fd() const { return syncer_->fd(); }
  Status FinishSync() { return syncer_->Finish(); }
  // Once a turn's answers are out: if the last sync covered everything
  // written, has the log record it (SegmentLog::MarkSynced), so that
  // recovery knows those batches were synced should the log stay idle.
  void MarkSynced();
  // FsyncMode::kInterval: when the last fsync is kIntervalMs old and writes
  // came since, fsyncs them. NextSync says when that will be due, if ever.
  Status SyncIfDue(Millis now);
  std::optional<Millis> NextSync() const;
  // FsyncMode::kInterval's period: a crash of the machine loses what was
  // acknowledged since the last fsync began, at most this plus one loop turn.
  // beanstalkd's default fsync interval.
  static constexpr Millis kIntervalMs = 50;

  // Whether the data directory's filesystem has less free space than the
  // reserve, as of the last RefreshDiskSpace (the server calls it once a
  // tick). Logs each change of state.
  bool DiskLow() const { return disk_low_; }
  void RefreshDiskSpace();

  // Journal.
  void QueueChanged(const Queue& q) override;
  void QueueDeleted(const Queue& q) override;
  void MessageAdded(const Queue& q, const StoredMessage& m, bool new_body) override;
  void MessageChanged(const Queue& q, const StoredMessage& m) override;
  void MessageRemoved(const Queue& q, const StoredMessage& m, bool moved) override;
  void QueuePurged(const Queue& q) override;
  void DedupRemembered(const Queue& q, const std::string& id,
                       const DedupWindow::Entry& entry) override;
  void DedupForgotten(const Queue& q, const std::string& id) override;
  void MoveTasksChanged() override;
  bool KeepsBodies() const override { return true; }
  void ReadBodies(const std::vector<BodyRead>& reads) override;

 private:
  Storage(std::unique_ptr<SegmentLog> log, std::string dir, StorageOptions options);
  void AppendMeta();
  void AppendQueue(const Queue& q);
  void AppendMessage(const Queue& q, const StoredMessage& m, const std::string& body);
  void AppendDedup(const Queue& q, const std::string& id, const DedupWindow::Entry& entry);
  void AppendMoveTasks();

  std::unique_ptr<SegmentLog> log_;
  StorageOptions options_;
  std::string dir_;
  std::unique_ptr<RecoveredState> recovered_;  // from Open until Recover
  uint64_t receipt_secret_ = 0;
  uint64_t next_incarnation_ = 1;
  std::map<uint64_t, const Queue*> queues_;  // by incarnation: every queue there is
  // Queues whose record (settings, counters) must be rewritten at commit.
  std::map<uint64_t, const Queue*> dirty_;  // by incarnation
  // The engine's move tasks, known from Recover on; rewritten whole at the
  // commit after a change (they are few: ten at most per dead-letter queue).
  const MoveTasks* move_tasks_ = nullptr;
  bool move_tasks_dirty_ = false;

  // Compaction. The log holds live records and garbage: records of deleted
  // messages, overwritten states, forgotten ids. The storage counts the live
  // messages, and estimates their bytes, by the segment that holds their
  // bodies. A compaction writes the queue records and deduplication ids at
  // the log's head, copies the live messages whose bodies are in a run of
  // oldest segments forward, a slice per turn, and finally deletes the run.
  // Which run is the policy's (broker/storage/compaction_policy.h); the
  // copying is in storage_compaction.cc.
  static constexpr uint64_t kCompactSliceBytes = 2ull << 20;
  static constexpr int kCompactSliceMessages = 16384;  // looked at per turn
  struct Compaction {
    uint32_t boundary;     // the segments up to this one go at the end
    uint64_t queue;        // where the copying has got to: queue incarnation,
    uint64_t seq;          // and position
    bool dropped = false;  // the run is deleted; its files are being closed
  };
  Status MaybeStartCompaction();
  // A turn's step of the compaction under way: CopySlice until the run is
  // copied and deleted; then, once its files are closed, its end.
  Status CompactSlice();
  Status CopySlice();
  // Writes what a compaction appended; on failure (a full disk) gives the
  // compaction up, which loses nothing: the old segments stay.
  bool WriteCompaction();
  void CountLive(const StoredMessage& m);
  void UncountLive(const StoredMessage& m, uint64_t body_ref);
  void MoveLive(const StoredMessage& m, uint64_t from_ref);
  bool compaction_deferred_ = false;  // for want of disk space
  std::optional<Compaction> compaction_;
  // The live messages by the segment of their bodies: their bytes time
  // compactions; their number tells a compaction when it has found them all,
  // so it need not walk every queue to its end.
  LiveBySegment live_by_segment_;
  bool live_counts_trusted_ = true;   // until one is found wrong
  uint64_t LiveMessageBytes() const;  // all of them
  uint64_t LiveMessagesThrough(uint32_t segment) const;
  uint64_t dedup_bytes_ = 0;  // live deduplication ids

  bool disk_low_ = false;
  uint64_t free_bytes_ = 0;  // as of the last RefreshDiskSpace
  // A change that could not be recorded (a body that could not be read back
  // for a move); the next Commit fails with it.
  Status failure_;
  bool unsynced_ = false;  // kInterval: written since the last fsync
  Millis last_sync_ = 0;   // kInterval: when the last fsync began

  // Numbers the commits and, with FsyncMode::kAlways, fsyncs them on a
  // thread of its own. Declared after log_, so that it stops before the
  // log goes.
  std::unique_ptr<Syncer> syncer_;
};

}  // namespace sluice

#endif  // SLUICE_BROKER_STORAGE_STORAGE_H_
