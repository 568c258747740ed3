#include "broker/storage/storage.h"

#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include "broker/engine/queue.h"
#include "broker/storage/storage_estimates.h"
#include "broker/engine/validation.h"
#include "storage.pb.h"

namespace sluice {
namespace {

// Record types. docs/storage.md gives each one's layout.
enum RecordType : uint32_t {
  kMeta = 1,            // BrokerMeta
  kQueue = 2,           // QueueRecord
  kQueueDeleted = 3,    // incarnation
  kMessage = 4,         // MessageHeader, MessageRecord, the body
  kMessageMoved = 5,    // MessageHeader (with where the body is), MessageRecord
  kMessageState = 6,    // StateRecord
  kMessageRemoved = 7,  // incarnation, position
  kDedup = 8,           // incarnation, id length, id, DedupRecord
  kDedupForgotten = 9,  // incarnation, id
  kMoveTasks = 10,      // MoveTasksRecord
  kQueuePurged = 11,    // PurgeRecord
};

// The fixed parts, little-endian as the machine writes them (x86-64, ARM64).
struct MessageHeader {
  uint64_t incarnation;
  uint64_t seq;
  uint64_t body_ref;  // kMessageMoved; a kMessage's body follows its record
  uint32_t body_size;
  uint32_t record_size;
};
struct StateRecord {
  uint64_t incarnation;
  uint64_t seq;
  uint32_t receive_count;
  int32_t state;
  int64_t first_received_at;
  int64_t received_at;
  int64_t available_at;
  uint64_t receipt_seq;
};
struct MessageKey {
  uint64_t incarnation;
  uint64_t seq;
};
// Every message of the queue at a position below `next_seq` is gone: those
// are all the messages it had when it was purged (positions only grow).
struct PurgeRecord {
  uint64_t incarnation;
  uint64_t next_seq;
};

// A receive reads the bodies it delivers in runs: bodies at most
// kReadGapBytes apart (a message's other fields lie between bodies sent
// together) share one read of at most kReadSpanBytes.
constexpr uint64_t kReadGapBytes = 4096;
constexpr uint64_t kReadSpanBytes = 1 << 20;

template <typename T>
std::string_view Bytes(const T& v) {
  return {reinterpret_cast<const char*>(&v), sizeof v};
}

template <typename T>
bool Read(std::string_view* in, T* v) {
  if (in->size() < sizeof *v) return false;
  std::memcpy(v, in->data(), sizeof *v);
  in->remove_prefix(sizeof *v);
  return true;
}

Status Corrupt(const std::string& what) { return Status(StatusCode::kCorruption, what); }

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
  return r;
}

bool ValidState(int32_t state) {
  return state >= static_cast<int32_t>(MessageState::kDelayed) &&
         state <= static_cast<int32_t>(MessageState::kInFlight);
}

Result<StoredMessage> FromRecord(uint64_t seq, const storage::MessageRecord& r) {
  if (!ValidState(r.state())) {
    return Corrupt("message record has unknown state " + std::to_string(r.state()));
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
  return m;
}

}  // namespace

// The log read back: the latest of everything, until Recover hands it over.
struct Storage::Recovered {
  bool has_meta = false;
  storage::BrokerMeta meta;
  std::map<uint64_t, storage::QueueRecord> queues;  // by incarnation
  std::map<std::pair<uint64_t, uint64_t>, StoredMessage> messages;
  std::map<std::pair<uint64_t, std::string>, DedupWindow::Entry> dedups;
  storage::MoveTasksRecord move_tasks;

  Status Apply(const LogRecord& r);
  void DropQueue(uint64_t incarnation);
};

void Storage::Recovered::DropQueue(uint64_t incarnation) {
  queues.erase(incarnation);
  messages.erase(messages.lower_bound({incarnation, 0}),
                 messages.lower_bound({incarnation + 1, 0}));
  dedups.erase(dedups.lower_bound({incarnation, ""}), dedups.lower_bound({incarnation + 1, ""}));
}

// Records about a message or id the log no longer holds are skipped: a
// compaction copied the message forward and deleted the segment of its older
// records, so what the copy carries is newer than they are.
Status Storage::Recovered::Apply(const LogRecord& r) {
  std::string_view in = r.payload;
  switch (r.type) {
    case kMeta:
      if (!meta.ParseFromArray(in.data(), static_cast<int>(in.size()))) {
        return Corrupt("unreadable meta record");
      }
      has_meta = true;
      return Status::Ok();
    case kQueue: {
      storage::QueueRecord q;
      if (!q.ParseFromArray(in.data(), static_cast<int>(in.size()))) {
        return Corrupt("unreadable queue record");
      }
      const uint64_t incarnation = q.incarnation();
      queues[incarnation] = std::move(q);
      return Status::Ok();
    }
    case kQueueDeleted: {
      uint64_t incarnation;
      if (!Read(&in, &incarnation)) return Corrupt("short queue deletion record");
      DropQueue(incarnation);
      return Status::Ok();
    }
    case kMessage:
    case kMessageMoved: {
      MessageHeader h;
      storage::MessageRecord record;
      if (!Read(&in, &h) || in.size() < h.record_size ||
          !record.ParseFromArray(in.data(), static_cast<int>(h.record_size))) {
        return Corrupt("unreadable message record");
      }
      auto m = FromRecord(h.seq, record);
      if (!m.ok()) return m.status();
      if (r.type == kMessage) {
        if (in.size() - h.record_size != h.body_size) return Corrupt("message body cut short");
        m->body_ref = r.position + sizeof h + h.record_size;
      } else {
        m->body_ref = h.body_ref;
      }
      m->body_size = h.body_size;
      messages.insert_or_assign({h.incarnation, h.seq}, std::move(*m));
      return Status::Ok();
    }
    case kMessageState: {
      StateRecord s;
      if (!Read(&in, &s) || !ValidState(s.state)) return Corrupt("unreadable message state");
      auto it = messages.find({s.incarnation, s.seq});
      if (it == messages.end()) return Status::Ok();
      StoredMessage& m = it->second;
      m.receive_count = s.receive_count;
      m.state = static_cast<MessageState>(s.state);
      m.first_received_at = s.first_received_at;
      m.received_at = s.received_at;
      m.available_at = s.available_at;
      m.receipt_seq = s.receipt_seq;
      return Status::Ok();
    }
    case kMessageRemoved: {
      MessageKey k;
      if (!Read(&in, &k)) return Corrupt("short message removal record");
      messages.erase({k.incarnation, k.seq});
      return Status::Ok();
    }
    case kQueuePurged: {
      PurgeRecord p;
      if (!Read(&in, &p)) return Corrupt("short purge record");
      messages.erase(messages.lower_bound({p.incarnation, 0}),
                     messages.lower_bound({p.incarnation, p.next_seq}));
      return Status::Ok();
    }
    case kDedup: {
      uint64_t incarnation;
      uint32_t id_size;
      storage::DedupRecord d;
      if (!Read(&in, &incarnation) || !Read(&in, &id_size) || in.size() < id_size ||
          !d.ParseFromArray(in.data() + id_size, static_cast<int>(in.size() - id_size))) {
        return Corrupt("unreadable deduplication record");
      }
      dedups[{incarnation, std::string(in.substr(0, id_size))}] =
          DedupWindow::Entry{d.message_id(), d.sequence_number(), d.expires_at()};
      return Status::Ok();
    }
    case kDedupForgotten: {
      uint64_t incarnation;
      if (!Read(&in, &incarnation)) return Corrupt("short deduplication record");
      dedups.erase({incarnation, std::string(in)});
      return Status::Ok();
    }
    case kMoveTasks:
      if (!move_tasks.ParseFromArray(in.data(), static_cast<int>(in.size()))) {
        return Corrupt("unreadable message move task record");
      }
      return Status::Ok();
    default:
      return Corrupt("unknown record type " + std::to_string(r.type));
  }
}

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
  struct stat st;
  if (::stat((dir + "/store").c_str(), &st) == 0) {
    return Status(StatusCode::kInvalidArgument,
                  dir +
                      "/store holds state written by an older sluice-broker (RocksDB), which "
                      "this version cannot read; drain it with the older broker first");
  }
  auto log = SegmentLog::Open(dir + "/log");
  if (!log.ok()) return log.status();
  std::unique_ptr<Storage> storage(new Storage(std::move(*log), dir, options));
  storage->recovered_ = std::make_unique<Recovered>();
  Recovered& recovered = *storage->recovered_;
  if (Status s = storage->log_->Replay([&](const LogRecord& r) { return recovered.Apply(r); });
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
  storage->sync_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (storage->sync_fd_ < 0) {
    return Status(StatusCode::kIOError, std::string("eventfd: ") + std::strerror(errno));
  }
  storage->RefreshDiskSpace();
  return storage;
}

Status Storage::Recover(Engine* engine) {
  Recovered& r = *recovered_;
  size_t messages = 0;
  std::map<uint64_t, Queue*> restored;  // by incarnation
  for (const auto& [incarnation, record] : r.queues) {
    QueueConfig config;
    AttributeMap attributes(record.attributes().begin(), record.attributes().end());
    if (Status s = ApplyAttributes(attributes, /*creating=*/true, &config); !s.ok()) {
      return Corrupt("queue record " + record.name() + ": " + s.detail());
    }
    Queue* q = engine->RestoreQueue(record.name(), incarnation, config, record.created_at());
    q->RestoreCounters(record.next_seq(), record.next_receipt_seq(), record.next_sequence_number(),
                       record.last_modified_at());
    queues_[incarnation] = q;
    restored[incarnation] = q;
  }
  // Each message is handed over and its node freed at once, so recovery
  // does not hold every message twice.
  while (!r.messages.empty()) {
    auto node = r.messages.extract(r.messages.begin());
    auto q = restored.find(node.key().first);
    if (q == restored.end()) {
      return Corrupt("message of unknown queue incarnation " + std::to_string(node.key().first));
    }
    StoredMessage& m = node.mapped();
    if (!log_->HasSegment(SegmentOf(m.body_ref))) {
      return Corrupt("the body of message " + m.message_id + " is in log segment " +
                     std::to_string(SegmentOf(m.body_ref)) + ", which is missing");
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
  std::list<MoveTask> tasks;
  for (const storage::MoveTasksRecord::Task& t : r.move_tasks.tasks()) {
    tasks.push_back(MoveTask{t.handle(), t.source(), t.destination(), t.rate(), t.moved(),
                             t.to_move(), t.started_at(), t.status(), t.failure_reason()});
  }
  engine->RestoreMoveTasks(std::move(tasks), r.move_tasks.next_id());
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
  if (synced_generation_ == written_generation_ || requested_generation_ == written_generation_) {
    return;
  }
  if (!syncer_.joinable()) syncer_ = std::jthread([this] { SyncLoop(); });
  requested_generation_ = written_generation_;
  {
    std::lock_guard lock(sync_mu_);
    sync_target_ = written_generation_;
  }
  sync_cv_.notify_one();
}

void Storage::SyncLoop() {
  std::unique_lock lock(sync_mu_);
  for (;;) {
    // A request made while the last fsync ran starts the next one at once,
    // without waiting for the loop to hear of the last one first.
    sync_cv_.wait(lock, [this] { return sync_stop_ || sync_target_ > sync_done_; });
    if (sync_stop_) return;
    const uint64_t target = sync_target_;
    lock.unlock();
    Status s = log_->Sync();
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
  if (!sync_status_.ok()) return sync_status_;
  synced_generation_ = sync_done_;
  return Status::Ok();
}

void Storage::MarkSynced() {
  // Only a help to recovery: a disk too full for it loses nothing.
  if (Status s = log_->MarkSynced(); !s.ok()) {
    spdlog::debug("event=sync_mark_failed error=\"{}\"", s.detail());
  }
}

void Storage::AppendMeta() {
  storage::BrokerMeta meta;
  meta.set_receipt_secret(receipt_secret_);
  meta.set_next_incarnation(next_incarnation_);
  log_->Append(kMeta, {meta.SerializeAsString()});
}

void Storage::AppendQueue(const Queue& q) {
  storage::QueueRecord r;
  r.set_name(q.name());
  r.set_incarnation(q.incarnation());
  const AttributeMap attributes = ConfigAttributes(q.config());
  r.mutable_attributes()->insert(attributes.begin(), attributes.end());
  r.set_created_at(q.created_at());
  r.set_last_modified_at(q.last_modified_at());
  r.set_next_seq(q.next_seq());
  r.set_next_receipt_seq(q.next_receipt_seq());
  r.set_next_sequence_number(q.next_sequence_number());
  log_->Append(kQueue, {r.SerializeAsString()});
}

void Storage::AppendMoveTasks() {
  storage::MoveTasksRecord r;
  for (const MoveTask& t : move_tasks_->all()) {
    storage::MoveTasksRecord::Task* out = r.add_tasks();
    out->set_handle(t.handle);
    out->set_source(t.source);
    out->set_destination(t.destination);
    out->set_rate(t.rate);
    out->set_moved(t.moved);
    out->set_to_move(t.to_move);
    out->set_started_at(t.started_at);
    out->set_status(t.status);
    out->set_failure_reason(t.failure_reason);
  }
  r.set_next_id(move_tasks_->next_id());
  log_->Append(kMoveTasks, {r.SerializeAsString()});
}

void Storage::AppendMessage(const Queue& q, const StoredMessage& m, const std::string& body) {
  const std::string record = ToRecord(m).SerializeAsString();
  const MessageHeader h{q.incarnation(), m.seq, 0, static_cast<uint32_t>(body.size()),
                        static_cast<uint32_t>(record.size())};
  const LogPosition at = log_->Append(kMessage, {Bytes(h), record, body});
  m.body_ref = at + sizeof h + record.size();
  m.body_size = static_cast<uint32_t>(body.size());
}

void Storage::AppendDedup(const Queue& q, const std::string& id, const DedupWindow::Entry& entry) {
  storage::DedupRecord r;
  r.set_message_id(entry.message_id);
  r.set_sequence_number(entry.sequence_number);
  r.set_expires_at(entry.expires_at);
  const uint64_t incarnation = q.incarnation();
  const uint32_t id_size = static_cast<uint32_t>(id.size());
  log_->Append(kDedup, {Bytes(incarnation), Bytes(id_size), id, r.SerializeAsString()});
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
  const uint64_t incarnation = q.incarnation();
  log_->Append(kQueueDeleted, {Bytes(incarnation)});
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
  const std::string record = ToRecord(m).SerializeAsString();
  const MessageHeader h{q.incarnation(), m.seq, m.body_ref, m.body_size,
                        static_cast<uint32_t>(record.size())};
  log_->Append(kMessageMoved, {Bytes(h), record});
}

void Storage::MessageChanged(const Queue& q, const StoredMessage& m) {
  dirty_[q.incarnation()] = &q;
  const StateRecord s{
      q.incarnation(),     m.seq,         m.receive_count, static_cast<int32_t>(m.state),
      m.first_received_at, m.received_at, m.available_at,  m.receipt_seq};
  log_->Append(kMessageState, {Bytes(s)});
}

void Storage::MessageRemoved(const Queue& q, const StoredMessage& m, bool moved) {
  dirty_[q.incarnation()] = &q;
  const MessageKey k{q.incarnation(), m.seq};
  log_->Append(kMessageRemoved, {Bytes(k)});
  if (!moved) UncountLive(m, m.body_ref);
}

void Storage::QueuePurged(const Queue& q) {
  dirty_[q.incarnation()] = &q;
  q.VisitFrom(0, [this](const StoredMessage& m) {
    UncountLive(m, m.body_ref);
    return true;
  });
  const PurgeRecord p{q.incarnation(), q.next_seq()};
  log_->Append(kQueuePurged, {Bytes(p)});
}

void Storage::DedupRemembered(const Queue& q, const std::string& id,
                              const DedupWindow::Entry& entry) {
  AppendDedup(q, id, entry);
  dedup_bytes_ += id.size() + kDedupOverheadBytes;
}

void Storage::DedupForgotten(const Queue& q, const std::string& id) {
  const uint64_t incarnation = q.incarnation();
  log_->Append(kDedupForgotten, {Bytes(incarnation), id});
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
    ++written_generation_;
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
