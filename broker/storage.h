// Storage: the broker's durable state, in RocksDB under the data directory.
//
// Storage is the Engine's Journal: changes reported during a turn of the
// server's loop collect in one write batch, and Commit() writes the batch
// atomically. With --fsync always a syncer thread fsyncs while later turns
// run, and the server holds a turn's answers until an fsync covers it, so
// concurrent clients share one fsync: group commit.
// Message bodies live here, not in the engine's memory (apart from a bounded
// cache of recent sends); the engine reads them back with ReadBody.
// docs/storage.md specifies the keys and the recovery rules.
#ifndef SLUICE_BROKER_STORAGE_H_
#define SLUICE_BROKER_STORAGE_H_

#include <rocksdb/db.h>
#include <rocksdb/utilities/write_batch_with_index.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "broker/engine.h"
#include "broker/journal.h"
#include "common/clock.h"
#include "common/status.h"

namespace sluice {

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
};

class Storage final : public Journal {
 public:
  // Opens (or creates) the store in `dir`. A torn write at the end of the
  // log is dropped with a warning; corruption anywhere else fails here.
  static Result<std::unique_ptr<Storage>> Open(const std::string& dir, StorageOptions options);
  ~Storage() override;

  // The receipt-handle key, made on first open and kept ever after.
  uint64_t receipt_secret() const { return receipt_secret_; }

  // Loads every recorded queue, message and deduplication id into `engine`,
  // which must be empty and have this storage as its journal.
  Status Recover(Engine* engine);

  // Writes everything reported since the last commit, atomically, without
  // waiting for the disk. On failure the changes are not acknowledged and the
  // in-memory state is ahead of the disk: the caller must stop (recovery
  // restarts from what is durable).
  Status Commit();

  // FsyncMode::kAlways: what was written is durable once an fsync that
  // started after it ends. Commits are numbered; WrittenGeneration is the
  // last one, SyncedGeneration the last one known durable. RequestSync
  // starts an fsync of everything written so far on the syncer thread; when
  // it ends, sync_fd() becomes readable and FinishSync says how it went. The
  // server's loop keeps running meanwhile, so the next turn's work overlaps
  // the disk's.
  bool SyncsEachCommit() const { return options_.fsync == FsyncMode::kAlways; }
  uint64_t WrittenGeneration() const { return written_generation_; }
  uint64_t SyncedGeneration() const { return synced_generation_; }
  void RequestSync();
  int sync_fd() const { return sync_fd_; }
  Status FinishSync();
  bool HasPending() { return batch_.GetWriteBatch()->Count() > 0 || !dirty_.empty(); }
  // FsyncMode::kInterval: when the last fsync is kIntervalMs old and writes
  // came since, fsyncs them. NextSync says when that will be due, if ever.
  Status SyncIfDue(Millis now);
  std::optional<Millis> NextSync() const;
  // The most acknowledged work FsyncMode::kInterval can lose to a crash of
  // the machine; beanstalkd's default fsync interval.
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
  void DedupRemembered(const Queue& q, const std::string& id,
                       const DedupWindow::Entry& entry) override;
  void DedupForgotten(const Queue& q, const std::string& id) override;
  std::string ReadBody(const StoredMessage& m) override;

 private:
  Storage(std::unique_ptr<rocksdb::DB> db, std::string dir, StorageOptions options);
  Status LoadMeta();
  void PutMessage(const Queue& q, const StoredMessage& m);

  std::unique_ptr<rocksdb::DB> db_;
  StorageOptions options_;
  rocksdb::WriteBatchWithIndex batch_;
  // Queues whose record (settings, counters) must be rewritten at commit.
  std::map<uint64_t, const Queue*> dirty_;  // by incarnation
  uint64_t receipt_secret_ = 0;
  uint64_t next_incarnation_ = 1;
  // Bodies of recent sends, so that a receive soon after its send does not
  // read the store: a consumer that keeps up never touches the disk for them.
  static constexpr size_t kRecentBodiesBytes = 64 << 20;
  void RememberBody(const std::string& message_id, const std::string& body);
  void ForgetBody(const std::string& message_id);
  // Both indexes drop a body together, so neither outgrows the cache.
  struct RecentBody {
    std::string body;
    uint64_t order;  // its key in recent_order_
  };
  std::unordered_map<std::string, RecentBody> recent_bodies_;
  std::map<uint64_t, std::string> recent_order_;  // oldest first
  uint64_t next_recent_ = 0;
  size_t recent_bytes_ = 0;

  // Space of deleted messages goes back to the filesystem through a full
  // compaction in the background once this many were deleted since the last
  // one: RocksDB's own triggers wait for more writes, so an idle broker would
  // keep the space of a drained queue. (50,000 1 KiB messages: ~50 MiB.)
  static constexpr uint64_t kCompactAfterDeletedMessages = 50'000;
  void MaybeCompact();
  uint64_t deleted_messages_ = 0;  // since the last compaction
  uint64_t live_messages_ = 0;
  std::atomic<bool> compacting_{false};
  std::jthread compaction_;

  std::string dir_;
  bool disk_low_ = false;
  bool unsynced_ = false;  // kInterval: written since the last fsync

  // The syncer thread (FsyncMode::kAlways).
  void SyncLoop();
  uint64_t written_generation_ = 0;
  uint64_t synced_generation_ = 0;
  bool sync_in_flight_ = false;
  int sync_fd_ = -1;  // eventfd: the syncer's "done"
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  uint64_t sync_target_ = 0;     // guarded by sync_mu_: generation to make durable
  uint64_t sync_done_ = 0;       // guarded by sync_mu_: generation made durable
  rocksdb::Status sync_status_;  // guarded by sync_mu_
  bool sync_stop_ = false;       // guarded by sync_mu_
  std::jthread syncer_;
  Millis last_sync_ = 0;
};

}  // namespace sluice

#endif  // SLUICE_BROKER_STORAGE_H_
