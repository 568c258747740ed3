#include "broker/storage.h"

#include <rocksdb/options.h>
#include <rocksdb/utilities/table_properties_collectors.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "broker/queue.h"
#include "storage.pb.h"

namespace sluice {
namespace {

constexpr char kMetaKey[] = "meta";
constexpr char kQueuePrefix[] = "q/";
constexpr char kMessagePrefix[] = "m/";
constexpr char kBodyPrefix[] = "b/";
constexpr char kDedupPrefix[] = "d/";

void AppendBigEndian(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

uint64_t ReadBigEndian(std::string_view s) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
  return v;
}

std::string QueueKey(const std::string& name) { return kQueuePrefix + name; }

// Big-endian numbers keep a queue's messages in position order on disk.
std::string MessageKey(uint64_t incarnation, uint64_t seq) {
  std::string key = kMessagePrefix;
  AppendBigEndian(&key, incarnation);
  AppendBigEndian(&key, seq);
  return key;
}

// A body is keyed by where the message was first sent, which it keeps through
// dead-letter moves and redrives (a move rewrites only the small state
// record), and which grows with every send, so bodies go into the memtable
// in order instead of at random places.
std::string BodyKey(const StoredMessage& m) {
  std::string key = kBodyPrefix;
  AppendBigEndian(&key, m.body_incarnation);
  AppendBigEndian(&key, m.body_seq);
  return key;
}

std::string DedupPrefix(uint64_t incarnation) {
  std::string key = kDedupPrefix;
  AppendBigEndian(&key, incarnation);
  return key;
}

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  return Status(pb::INTERNAL_ERROR, what + ": " + s.ToString());
}

storage::MessageRecord ToRecord(const StoredMessage& m) {
  storage::MessageRecord r;
  r.set_message_id(m.message_id);
  r.set_md5_of_body(m.md5_of_body);
  r.mutable_attributes()->insert(m.attributes.begin(), m.attributes.end());
  r.set_md5_of_attributes(m.md5_of_attributes);
  r.set_sent_at(m.sent_at);
  r.set_enqueued_at(m.enqueued_at);
  r.set_first_received_at(m.first_received_at);
  r.set_receive_count(m.receive_count);
  r.set_state(static_cast<int32_t>(m.state));
  r.set_available_at(m.available_at);
  r.set_received_at(m.received_at);
  r.set_receipt_seq(m.receipt_seq);
  r.set_group_id(m.group_id);
  r.set_deduplication_id(m.deduplication_id);
  r.set_sequence_number(m.sequence_number);
  r.set_dead_letter_source(m.dead_letter_source);
  r.set_body_incarnation(m.body_incarnation);
  r.set_body_seq(m.body_seq);
  return r;
}

Result<StoredMessage> FromRecord(uint64_t seq, const storage::MessageRecord& r) {
  if (r.state() < static_cast<int32_t>(MessageState::kDelayed) ||
      r.state() > static_cast<int32_t>(MessageState::kInFlight)) {
    return Status(pb::INTERNAL_ERROR,
                  "message record has unknown state " + std::to_string(r.state()));
  }
  StoredMessage m;
  m.seq = seq;
  m.message_id = r.message_id();
  m.md5_of_body = r.md5_of_body();
  m.attributes.insert(r.attributes().begin(), r.attributes().end());
  m.md5_of_attributes = r.md5_of_attributes();
  m.sent_at = r.sent_at();
  m.enqueued_at = r.enqueued_at();
  m.first_received_at = r.first_received_at();
  m.receive_count = r.receive_count();
  m.state = static_cast<MessageState>(r.state());
  m.available_at = r.available_at();
  m.received_at = r.received_at();
  m.receipt_seq = r.receipt_seq();
  m.group_id = r.group_id();
  m.deduplication_id = r.deduplication_id();
  m.sequence_number = r.sequence_number();
  m.dead_letter_source = r.dead_letter_source();
  m.body_incarnation = r.body_incarnation();
  m.body_seq = r.body_seq();
  return m;
}

}  // namespace

Result<FsyncMode> ParseFsyncMode(const std::string& text) {
  if (text == "always") return FsyncMode::kAlways;
  if (text == "interval") return FsyncMode::kInterval;
  if (text == "never") return FsyncMode::kNever;
  return Status(pb::INVALID_PARAMETER_VALUE,
                "--fsync must be always, interval or never, not '" + text + "'");
}

Storage::Storage(std::unique_ptr<rocksdb::DB> db, std::string dir, StorageOptions options)
    : db_(std::move(db)), options_(options), dir_(std::move(dir)) {}

void Storage::RefreshDiskSpace() {
  struct statvfs fs;
  if (::statvfs(dir_.c_str(), &fs) != 0) return;
  const uint64_t free_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
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

Storage::~Storage() {
  if (syncer_.joinable()) {
    {
      std::lock_guard lock(sync_mu_);
      sync_stop_ = true;
    }
    sync_cv_.notify_one();
    syncer_.join();
  }
  if (sync_fd_ >= 0) ::close(sync_fd_);
}

void Storage::RequestSync() {
  if (sync_in_flight_ || synced_generation_ == written_generation_) return;
  if (!syncer_.joinable()) syncer_ = std::jthread([this] { SyncLoop(); });
  sync_in_flight_ = true;
  {
    std::lock_guard lock(sync_mu_);
    sync_target_ = written_generation_;
  }
  sync_cv_.notify_one();
}

void Storage::SyncLoop() {
  std::unique_lock lock(sync_mu_);
  for (;;) {
    sync_cv_.wait(lock, [this] { return sync_stop_ || sync_target_ > sync_done_; });
    if (sync_stop_) return;
    const uint64_t target = sync_target_;
    lock.unlock();
    rocksdb::Status s = db_->SyncWAL();
    lock.lock();
    sync_status_ = s;
    sync_done_ = target;
    const uint64_t one = 1;
    if (::write(sync_fd_, &one, sizeof one) != sizeof one) {
      spdlog::critical("event=syncer_signal_failed");
    }
  }
}

Status Storage::FinishSync() {
  uint64_t count = 0;
  if (::read(sync_fd_, &count, sizeof count) != sizeof count) return Status::Ok();
  std::lock_guard lock(sync_mu_);
  sync_in_flight_ = false;
  if (!sync_status_.ok()) return FromRocks(sync_status_, "syncing the log");
  synced_generation_ = sync_done_;
  return Status::Ok();
}

Result<std::unique_ptr<Storage>> Storage::Open(const std::string& dir, StorageOptions options) {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.paranoid_checks = true;
  // Two cores: one for the broker's loop, one for flushes and compactions.
  o.IncreaseParallelism(2);
  o.compression = rocksdb::kNoCompression;
  o.info_log_level = rocksdb::WARN_LEVEL;
  // Deleted messages must give their space back without waiting for more
  // writes: a table file that is mostly deletions is compacted as soon as it
  // is written, which drops the deletions together with what they delete.
  o.table_properties_collector_factories.emplace_back(
      rocksdb::NewCompactOnDeletionCollectorFactory(/*sliding_window_size=*/4096,
                                                    /*deletion_trigger=*/1024,
                                                    /*deletion_ratio=*/0.3));
  const std::string path = dir + "/store";
  // First insist on a log without damage. If that fails, the damage may be a
  // write torn by a crash, which can only be the log's last record: open
  // again tolerating a corrupt tail, and say so. Damage anywhere else fails
  // both opens, so no acknowledged data is silently dropped.
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kAbsoluteConsistency;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, path, &raw);
  if (s.IsCorruption()) {
    const std::string strict_error = s.ToString();
    o.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
    s = rocksdb::DB::Open(o, path, &raw);
    if (s.ok()) {
      spdlog::warn("event=torn_tail_dropped store={} detail=\"{}\"", path, strict_error);
    }
  }
  if (!s.ok()) {
    return Status(pb::INTERNAL_ERROR, "cannot open the store in " + path + ": " + s.ToString());
  }
  std::unique_ptr<Storage> storage(new Storage(std::unique_ptr<rocksdb::DB>(raw), path, options));
  storage->sync_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (storage->sync_fd_ < 0) {
    return Status(pb::INTERNAL_ERROR, std::string("eventfd: ") + std::strerror(errno));
  }
  if (Status ls = storage->LoadMeta(); !ls.ok()) return ls;
  storage->RefreshDiskSpace();
  return storage;
}

Status Storage::LoadMeta() {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), kMetaKey, &value);
  storage::BrokerMeta meta;
  if (s.IsNotFound()) {
    std::random_device rd;
    meta.set_receipt_secret((static_cast<uint64_t>(rd()) << 32) ^ rd() ^ 1);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    if (Status ws = FromRocks(db_->Put(wo, kMetaKey, meta.SerializeAsString()), "writing meta");
        !ws.ok()) {
      return ws;
    }
  } else if (!s.ok()) {
    return FromRocks(s, "reading meta");
  } else if (!meta.ParseFromString(value)) {
    return Status(pb::INTERNAL_ERROR, "the store's meta record is corrupt");
  }
  receipt_secret_ = meta.receipt_secret();
  next_incarnation_ = std::max<uint64_t>(1, meta.next_incarnation());
  return Status::Ok();
}

Status Storage::Recover(Engine* engine) {
  std::map<uint64_t, Queue*> by_incarnation;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  size_t queues = 0, messages = 0, dedups = 0;

  for (it->Seek(kQueuePrefix); it->Valid() && it->key().starts_with(kQueuePrefix); it->Next()) {
    storage::QueueRecord r;
    if (!r.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status(pb::INTERNAL_ERROR, "corrupt queue record " + it->key().ToString());
    }
    QueueConfig config;
    AttributeMap attributes(r.attributes().begin(), r.attributes().end());
    if (Status s = ApplyAttributes(attributes, /*creating=*/true, &config); !s.ok()) {
      return Status(pb::INTERNAL_ERROR, "queue record " + r.name() + ": " + s.detail());
    }
    Queue* q = engine->RestoreQueue(r.name(), r.incarnation(), config, r.created_at());
    q->RestoreCounters(r.next_seq(), r.next_receipt_seq(), r.next_sequence_number(),
                       r.last_modified_at());
    by_incarnation[r.incarnation()] = q;
    ++queues;
  }
  for (it->Seek(kMessagePrefix); it->Valid() && it->key().starts_with(kMessagePrefix); it->Next()) {
    const rocksdb::Slice key = it->key();
    if (key.size() != 2 + 16) return Status(pb::INTERNAL_ERROR, "corrupt message key");
    const uint64_t incarnation = ReadBigEndian({key.data() + 2, 8});
    const uint64_t seq = ReadBigEndian({key.data() + 10, 8});
    auto q = by_incarnation.find(incarnation);
    if (q == by_incarnation.end()) {
      return Status(pb::INTERNAL_ERROR,
                    "message of unknown queue incarnation " + std::to_string(incarnation));
    }
    storage::MessageRecord r;
    if (!r.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status(pb::INTERNAL_ERROR, "corrupt message record in queue " + q->second->name());
    }
    auto m = FromRecord(seq, r);
    if (!m.ok()) return m.status();
    q->second->Restore(std::move(*m));
    ++messages;
  }
  for (it->Seek(kDedupPrefix); it->Valid() && it->key().starts_with(kDedupPrefix); it->Next()) {
    const rocksdb::Slice key = it->key();
    if (key.size() < 2 + 8) return Status(pb::INTERNAL_ERROR, "corrupt deduplication key");
    auto q = by_incarnation.find(ReadBigEndian({key.data() + 2, 8}));
    storage::DedupRecord r;
    if (q == by_incarnation.end() ||
        !r.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status(pb::INTERNAL_ERROR, "corrupt deduplication record");
    }
    q->second->RestoreDedup(
        std::string(key.data() + 10, key.size() - 10),
        DedupWindow::Entry{r.message_id(), r.sequence_number(), r.expires_at()});
    ++dedups;
  }
  if (Status s = FromRocks(it->status(), "reading the store"); !s.ok()) return s;
  engine->ReserveIncarnations(next_incarnation_);
  live_messages_ = messages;
  spdlog::info("event=recovered queues={} messages={} deduplication_ids={}", queues, messages,
               dedups);
  return Status::Ok();
}

void Storage::QueueChanged(const Queue& q) {
  dirty_[q.incarnation()] = &q;
  if (q.incarnation() >= next_incarnation_) {
    next_incarnation_ = q.incarnation() + 1;
    storage::BrokerMeta meta;
    meta.set_receipt_secret(receipt_secret_);
    meta.set_next_incarnation(next_incarnation_);
    batch_.Put(kMetaKey, meta.SerializeAsString());
  }
}

void Storage::QueueDeleted(const Queue& q) {
  dirty_.erase(q.incarnation());
  batch_.Delete(QueueKey(q.name()));
  const std::string prefix = DedupPrefix(q.incarnation());
  std::unique_ptr<rocksdb::Iterator> it(
      batch_.NewIteratorWithBase(db_->NewIterator(rocksdb::ReadOptions())));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    batch_.Delete(it->key());
  }
}

void Storage::PutMessage(const Queue& q, const StoredMessage& m) {
  batch_.Put(MessageKey(q.incarnation(), m.seq), ToRecord(m).SerializeAsString());
  dirty_[q.incarnation()] = &q;
}

void Storage::MessageAdded(const Queue& q, const StoredMessage& m, bool new_body) {
  if (new_body) {
    batch_.Put(BodyKey(m), m.body);
    RememberBody(m.message_id, m.body);
    ++live_messages_;
  }
  PutMessage(q, m);
}

void Storage::RememberBody(const std::string& message_id, const std::string& body) {
  auto [it, inserted] = recent_bodies_.try_emplace(message_id, RecentBody{body, next_recent_});
  if (!inserted) return;
  recent_order_.emplace(next_recent_++, message_id);
  recent_bytes_ += body.size();
  while (recent_bytes_ > kRecentBodiesBytes) ForgetBody(recent_order_.begin()->second);
}

void Storage::ForgetBody(const std::string& message_id) {
  auto it = recent_bodies_.find(message_id);
  if (it == recent_bodies_.end()) return;
  recent_bytes_ -= it->second.body.size();
  recent_order_.erase(it->second.order);
  recent_bodies_.erase(it);
}

void Storage::MessageChanged(const Queue& q, const StoredMessage& m) { PutMessage(q, m); }

void Storage::MessageRemoved(const Queue& q, const StoredMessage& m, bool moved) {
  batch_.Delete(MessageKey(q.incarnation(), m.seq));
  if (!moved) {
    batch_.Delete(BodyKey(m));
    ForgetBody(m.message_id);
    ++deleted_messages_;
    --live_messages_;
  }
}

void Storage::DedupRemembered(const Queue& q, const std::string& id,
                              const DedupWindow::Entry& entry) {
  storage::DedupRecord r;
  r.set_message_id(entry.message_id);
  r.set_sequence_number(entry.sequence_number);
  r.set_expires_at(entry.expires_at);
  batch_.Put(DedupPrefix(q.incarnation()) + id, r.SerializeAsString());
}

void Storage::DedupForgotten(const Queue& q, const std::string& id) {
  batch_.Delete(DedupPrefix(q.incarnation()) + id);
}

std::string Storage::ReadBody(const StoredMessage& m) {
  if (auto it = recent_bodies_.find(m.message_id); it != recent_bodies_.end()) {
    return it->second.body;
  }
  std::string body;
  rocksdb::Status s =
      batch_.GetFromBatchAndDB(db_.get(), rocksdb::ReadOptions(), BodyKey(m), &body);
  if (!s.ok()) {
    spdlog::error("event=body_read_failed message_id={} error=\"{}\"", m.message_id, s.ToString());
  }
  return body;
}

Status Storage::Commit() {
  for (const auto& [incarnation, q] : dirty_) {
    storage::QueueRecord r;
    r.set_name(q->name());
    r.set_incarnation(incarnation);
    const AttributeMap attributes = ConfigAttributes(q->config());
    r.mutable_attributes()->insert(attributes.begin(), attributes.end());
    r.set_created_at(q->created_at());
    r.set_last_modified_at(q->last_modified_at());
    r.set_next_seq(q->next_seq());
    r.set_next_receipt_seq(q->next_receipt_seq());
    r.set_next_sequence_number(q->next_sequence_number());
    batch_.Put(QueueKey(q->name()), r.SerializeAsString());
  }
  dirty_.clear();
  if (batch_.GetWriteBatch()->Count() == 0) return Status::Ok();
  // Never synced here: kAlways syncs on the syncer thread (RequestSync),
  // kInterval in SyncIfDue, kNever not at all.
  rocksdb::Status s = db_->Write(rocksdb::WriteOptions(), batch_.GetWriteBatch());
  batch_.Clear();
  if (s.ok()) ++written_generation_;
  unsynced_ = options_.fsync == FsyncMode::kInterval;
  if (s.ok()) MaybeCompact();
  return FromRocks(s, "committing to the store");
}

void Storage::MaybeCompact() {
  // At least as much garbage as live data keeps the rewriting of live data
  // proportional to what is deleted: draining a queue compacts O(log n) times.
  if (deleted_messages_ < kCompactAfterDeletedMessages || deleted_messages_ < live_messages_ ||
      compacting_.load()) {
    return;
  }
  deleted_messages_ = 0;
  compacting_ = true;
  // RocksDB lets writes go on while a compaction runs; the server's loop
  // never waits for it.
  compaction_ = std::jthread([this] {
    rocksdb::CompactRangeOptions options;
    options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    rocksdb::Status s = db_->CompactRange(options, nullptr, nullptr);
    if (!s.ok()) spdlog::warn("event=compaction_failed error=\"{}\"", s.ToString());
    compacting_ = false;
  });
}

std::optional<Millis> Storage::NextSync() const {
  if (!unsynced_) return std::nullopt;
  return last_sync_ + kIntervalMs;
}

Status Storage::SyncIfDue(Millis now) {
  if (!unsynced_ || now < last_sync_ + kIntervalMs) return Status::Ok();
  unsynced_ = false;
  last_sync_ = now;
  return FromRocks(db_->SyncWAL(), "syncing the log");
}

}  // namespace sluice
