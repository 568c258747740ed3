#include "broker/storage/record_codec.h"

#include <optional>

#include "broker/engine/queue_config.h"
#include "broker/storage/coding.h"
#include "broker/storage/storage_status.h"

namespace sluice {
namespace {

// Writes the fields of a fixed part in order, from its first byte.
class PartWriter {
 public:
  explicit PartWriter(char* p) : p_(p) {}
  PartWriter& Put32(uint32_t v) {
    EncodeFixed32(p_, v);
    p_ += 4;
    return *this;
  }
  PartWriter& Put64(uint64_t v) {
    EncodeFixed64(p_, v);
    p_ += 8;
    return *this;
  }

 private:
  char* p_;
};

// Reads the fields of a fixed part in order, from a payload already known
// to hold the whole part.
class PartReader {
 public:
  explicit PartReader(const char* p) : p_(p) {}
  uint32_t Get32() {
    const uint32_t v = DecodeFixed32(p_);
    p_ += 4;
    return v;
  }
  uint64_t Get64() {
    const uint64_t v = DecodeFixed64(p_);
    p_ += 8;
    return v;
  }

 private:
  const char* p_;
};

// The front of `in` as a reader of a `bytes`-byte part, removed from `in`;
// nullopt when `in` is shorter.
std::optional<PartReader> TakePart(std::string_view* in, size_t bytes) {
  if (in->size() < bytes) return std::nullopt;
  PartReader reader(in->data());
  in->remove_prefix(bytes);
  return reader;
}

bool ValidState(int32_t state) {
  return state >= static_cast<int32_t>(MessageState::kDelayed) &&
         state <= static_cast<int32_t>(MessageState::kInFlight);
}

template <typename Proto>
bool ParseProto(std::string_view payload, Proto* out) {
  return out->ParseFromArray(payload.data(), static_cast<int>(payload.size()));
}

}  // namespace

Encoded<QueueKey> Encode(const QueueKey& k) {
  Encoded<QueueKey> out;
  PartWriter(out.data()).Put64(k.incarnation);
  return out;
}

Encoded<MessageKey> Encode(const MessageKey& k) {
  Encoded<MessageKey> out;
  PartWriter(out.data()).Put64(k.incarnation).Put64(k.seq);
  return out;
}

Encoded<MessageHeader> Encode(const MessageHeader& h) {
  Encoded<MessageHeader> out;
  PartWriter(out.data())
      .Put64(h.incarnation)
      .Put64(h.seq)
      .Put64(h.body_ref)
      .Put32(h.body_size)
      .Put32(h.record_size);
  return out;
}

Encoded<StateRecord> Encode(const StateRecord& s) {
  Encoded<StateRecord> out;
  PartWriter(out.data())
      .Put64(s.incarnation)
      .Put64(s.seq)
      .Put32(s.receive_count)
      .Put32(static_cast<uint32_t>(s.state))
      .Put64(static_cast<uint64_t>(s.first_received_at))
      .Put64(static_cast<uint64_t>(s.received_at))
      .Put64(static_cast<uint64_t>(s.available_at))
      .Put64(s.receipt_seq);
  return out;
}

Encoded<PurgeMark> Encode(const PurgeMark& p) {
  Encoded<PurgeMark> out;
  PartWriter(out.data()).Put64(p.incarnation).Put64(p.next_seq);
  return out;
}

Encoded<DedupHeader> Encode(const DedupHeader& h) {
  Encoded<DedupHeader> out;
  PartWriter(out.data()).Put64(h.incarnation).Put32(h.id_size);
  return out;
}

bool Decode(std::string_view* in, QueueKey* k) {
  auto r = TakePart(in, QueueKey::kBytes);
  if (!r) return false;
  k->incarnation = r->Get64();
  return true;
}

bool Decode(std::string_view* in, MessageKey* k) {
  auto r = TakePart(in, MessageKey::kBytes);
  if (!r) return false;
  k->incarnation = r->Get64();
  k->seq = r->Get64();
  return true;
}

bool Decode(std::string_view* in, MessageHeader* h) {
  auto r = TakePart(in, MessageHeader::kBytes);
  if (!r) return false;
  h->incarnation = r->Get64();
  h->seq = r->Get64();
  h->body_ref = r->Get64();
  h->body_size = r->Get32();
  h->record_size = r->Get32();
  return true;
}

bool Decode(std::string_view* in, StateRecord* s) {
  auto r = TakePart(in, StateRecord::kBytes);
  if (!r) return false;
  s->incarnation = r->Get64();
  s->seq = r->Get64();
  s->receive_count = r->Get32();
  s->state = static_cast<int32_t>(r->Get32());
  s->first_received_at = static_cast<int64_t>(r->Get64());
  s->received_at = static_cast<int64_t>(r->Get64());
  s->available_at = static_cast<int64_t>(r->Get64());
  s->receipt_seq = r->Get64();
  return true;
}

bool Decode(std::string_view* in, PurgeMark* p) {
  auto r = TakePart(in, PurgeMark::kBytes);
  if (!r) return false;
  p->incarnation = r->Get64();
  p->next_seq = r->Get64();
  return true;
}

bool Decode(std::string_view* in, DedupHeader* h) {
  auto r = TakePart(in, DedupHeader::kBytes);
  if (!r) return false;
  h->incarnation = r->Get64();
  h->id_size = r->Get32();
  return true;
}

StateRecord StateOf(uint64_t incarnation, const StoredMessage& m) {
  return StateRecord{
      incarnation,         m.seq,         m.receive_count, static_cast<int32_t>(m.state),
      m.first_received_at, m.received_at, m.available_at,  m.receipt_seq};
}

void ApplyState(const StateRecord& s, StoredMessage* m) {
  m->receive_count = s.receive_count;
  m->state = static_cast<MessageState>(s.state);
  m->first_received_at = s.first_received_at;
  m->received_at = s.received_at;
  m->available_at = s.available_at;
  m->receipt_seq = s.receipt_seq;
}

Result<StateRecord> DecodeState(std::string_view payload) {
  StateRecord s;
  if (!Decode(&payload, &s) || !ValidState(s.state)) return Corrupt("unreadable message state");
  return s;
}

EncodedMessage EncodeMessage(uint64_t incarnation, const StoredMessage& m, uint64_t body_ref,
                             uint32_t body_size) {
  storage::MessageRecord r;
  r.set_message_id(m.message_id);
  r.set_md5_of_body(m.md5_of_body);
  r.mutable_attributes()->insert(m.attributes.begin(), m.attributes.end());
  r.set_md5_of_attributes(m.md5_of_attributes);
  r.set_sent_at(m.sent_at);
  r.set_enqueued_at(m.enqueued_at);
  r.set_group_id(m.group_id);
  r.set_deduplication_id(m.deduplication_id);
  r.set_sequence_number(m.sequence_number);
  r.set_dead_letter_source(m.dead_letter_source);
  // The fields a state record replaces.
  const StateRecord s = StateOf(incarnation, m);
  r.set_first_received_at(s.first_received_at);
  r.set_receive_count(s.receive_count);
  r.set_state(s.state);
  r.set_available_at(s.available_at);
  r.set_received_at(s.received_at);
  r.set_receipt_seq(s.receipt_seq);
  EncodedMessage out;
  out.record = r.SerializeAsString();
  out.header = Encode(MessageHeader{incarnation, m.seq, body_ref, body_size,
                                    static_cast<uint32_t>(out.record.size())});
  return out;
}

Result<DecodedMessage> DecodeMessage(const LogRecord& r) {
  std::string_view in = r.payload;
  MessageHeader h;
  storage::MessageRecord record;
  if (!Decode(&in, &h) || in.size() < h.record_size ||
      !ParseProto(in.substr(0, h.record_size), &record)) {
    return Corrupt("unreadable message record");
  }
  if (!ValidState(record.state())) {
    return Corrupt("message record has unknown state " + std::to_string(record.state()));
  }
  DecodedMessage out{h.incarnation, {}};
  StoredMessage& m = out.message;
  m.seq = h.seq;
  m.message_id = record.message_id();
  m.md5_of_body = record.md5_of_body();
  m.attributes.insert(record.attributes().begin(), record.attributes().end());
  m.md5_of_attributes = record.md5_of_attributes();
  m.sent_at = record.sent_at();
  m.enqueued_at = record.enqueued_at();
  m.group_id = record.group_id();
  m.deduplication_id = record.deduplication_id();
  m.sequence_number = record.sequence_number();
  m.dead_letter_source = record.dead_letter_source();
  ApplyState(StateRecord{h.incarnation, h.seq, record.receive_count(), record.state(),
                         record.first_received_at(), record.received_at(), record.available_at(),
                         record.receipt_seq()},
             &m);
  if (r.type == kMessage) {
    if (in.size() - h.record_size != h.body_size) return Corrupt("message body cut short");
    m.body_ref = r.position + MessageHeader::kBytes + h.record_size;
  } else {
    m.body_ref = h.body_ref;
  }
  m.body_size = h.body_size;
  return out;
}

std::string EncodeMeta(uint64_t receipt_secret, uint64_t next_incarnation) {
  storage::BrokerMeta meta;
  meta.set_receipt_secret(receipt_secret);
  meta.set_next_incarnation(next_incarnation);
  return meta.SerializeAsString();
}

Result<storage::BrokerMeta> DecodeMeta(std::string_view payload) {
  storage::BrokerMeta meta;
  if (!ParseProto(payload, &meta)) return Corrupt("unreadable meta record");
  return meta;
}

std::string EncodeQueue(const Queue& q) {
  storage::QueueRecord r;
  r.set_name(q.name());
  r.set_incarnation(q.incarnation());
  // Recovery reads the dead-letter queue back by name, so any ARN spelling does.
  const AttributeMap attributes = ConfigAttributes(q.config(), ArnFormat{});
  r.mutable_attributes()->insert(attributes.begin(), attributes.end());
  r.mutable_tags()->insert(q.tags().begin(), q.tags().end());
  r.set_created_at(q.created_at());
  r.set_last_modified_at(q.last_modified_at());
  r.set_next_seq(q.next_seq());
  r.set_next_receipt_seq(q.next_receipt_seq());
  r.set_next_sequence_number(q.next_sequence_number());
  return r.SerializeAsString();
}

Result<storage::QueueRecord> DecodeQueue(std::string_view payload) {
  storage::QueueRecord q;
  if (!ParseProto(payload, &q)) return Corrupt("unreadable queue record");
  return q;
}

std::string EncodeMoveTasks(const MoveTasks& tasks) {
  storage::MoveTasksRecord r;
  for (const MoveTask& t : tasks.all()) {
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
  r.set_next_id(tasks.next_id());
  return r.SerializeAsString();
}

Result<storage::MoveTasksRecord> DecodeMoveTasks(std::string_view payload) {
  storage::MoveTasksRecord r;
  if (!ParseProto(payload, &r)) return Corrupt("unreadable message move task record");
  return r;
}

std::list<MoveTask> MoveTasksOf(const storage::MoveTasksRecord& r) {
  std::list<MoveTask> tasks;
  for (const storage::MoveTasksRecord::Task& t : r.tasks()) {
    tasks.push_back(MoveTask{t.handle(), t.source(), t.destination(), t.rate(), t.moved(),
                             t.to_move(), t.started_at(), t.status(), t.failure_reason()});
  }
  return tasks;
}

std::string EncodeDedupEntry(const DedupWindow::Entry& entry) {
  storage::DedupRecord r;
  r.set_message_id(entry.message_id);
  r.set_sequence_number(entry.sequence_number);
  r.set_expires_at(entry.expires_at);
  return r.SerializeAsString();
}

Result<DecodedDedup> DecodeDedup(std::string_view payload) {
  DedupHeader h;
  storage::DedupRecord d;
  if (!Decode(&payload, &h) || payload.size() < h.id_size ||
      !ParseProto(payload.substr(h.id_size), &d)) {
    return Corrupt("unreadable deduplication record");
  }
  return DecodedDedup{h.incarnation, std::string(payload.substr(0, h.id_size)),
                      DedupWindow::Entry{d.message_id(), d.sequence_number(), d.expires_at()}};
}

}  // namespace sluice
