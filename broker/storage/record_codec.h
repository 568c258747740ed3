// The payloads of the broker's log records (docs/storage.md, "Records"):
// their types, and each one encoded and decoded.
//
// Fixed parts are little-endian integers written field by field (coding.h),
// never a struct's bytes, so the format is the same whatever the compiler
// lays out; each part's size is checked at compile time. The rest are
// Protocol Buffers (proto/storage.proto). This file is also the one mapping
// between an engine's StoredMessage and its records. Decoders fail with
// Corrupt() on a payload they cannot read.
#ifndef SLUICE_BROKER_STORAGE_RECORD_CODEC_H_
#define SLUICE_BROKER_STORAGE_RECORD_CODEC_H_

#include <array>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>

#include "broker/engine/dedup_window.h"
#include "broker/engine/move_tasks.h"
#include "broker/engine/queue.h"
#include "broker/engine/stored_message.h"
#include "broker/storage/segment_log.h"
#include "common/status.h"
#include "storage.pb.h"

namespace sluice {

enum RecordType : uint32_t {
  kMeta = 1,            // BrokerMeta
  kQueue = 2,           // QueueRecord
  kQueueDeleted = 3,    // QueueKey
  kMessage = 4,         // MessageHeader, MessageRecord, the body
  kMessageMoved = 5,    // MessageHeader (with where the body is), MessageRecord
  kMessageState = 6,    // StateRecord
  kMessageRemoved = 7,  // MessageKey
  kDedup = 8,           // DedupHeader, the id, DedupRecord
  kDedupForgotten = 9,  // QueueKey, the id
  kMoveTasks = 10,      // MoveTasksRecord
  kQueuePurged = 11,    // PurgeMark
};

// The fixed parts. Each encodes to kBytes, the sum of its fields' widths.
struct QueueKey {
  uint64_t incarnation;
  static constexpr size_t kBytes = 8;
};
struct MessageKey {
  uint64_t incarnation;
  uint64_t seq;
  static constexpr size_t kBytes = 8 + 8;
};
struct MessageHeader {
  uint64_t incarnation;
  uint64_t seq;
  uint64_t body_ref;  // kMessageMoved; a kMessage's body follows its record
  uint32_t body_size;
  uint32_t record_size;  // of the MessageRecord after the header
  static constexpr size_t kBytes = 8 + 8 + 8 + 4 + 4;
};
// What a receive or a visibility change alters of a message.
struct StateRecord {
  uint64_t incarnation;
  uint64_t seq;
  uint32_t receive_count;
  int32_t state;
  int64_t first_received_at;
  int64_t received_at;
  int64_t available_at;
  uint64_t receipt_seq;
  static constexpr size_t kBytes = 8 + 8 + 4 + 4 + 8 + 8 + 8 + 8;
};
// Every message of the queue at a position below `next_seq` is gone: those
// are all the messages it had when it was purged (positions only grow).
struct PurgeMark {
  uint64_t incarnation;
  uint64_t next_seq;
  static constexpr size_t kBytes = 8 + 8;
};
struct DedupHeader {
  uint64_t incarnation;
  uint32_t id_size;  // of the id after the header
  static constexpr size_t kBytes = 8 + 4;
};

// The sizes of format "sluice-log 4": a change here is a new format.
static_assert(QueueKey::kBytes == 8);
static_assert(MessageKey::kBytes == 16);
static_assert(MessageHeader::kBytes == 32);
static_assert(StateRecord::kBytes == 56);
static_assert(PurgeMark::kBytes == 16);
static_assert(DedupHeader::kBytes == 12);

template <typename Part>
using Encoded = std::array<char, Part::kBytes>;

// An encoded part as one of SegmentLog::Append's parts.
template <size_t N>
std::string_view View(const std::array<char, N>& bytes) {
  return {bytes.data(), bytes.size()};
}

Encoded<QueueKey> Encode(const QueueKey& k);
Encoded<MessageKey> Encode(const MessageKey& k);
Encoded<MessageHeader> Encode(const MessageHeader& h);
Encoded<StateRecord> Encode(const StateRecord& s);
Encoded<PurgeMark> Encode(const PurgeMark& p);
Encoded<DedupHeader> Encode(const DedupHeader& h);

// Each reads its part from the front of `in` and removes it; false when
// `in` is too short.
bool Decode(std::string_view* in, QueueKey* k);
bool Decode(std::string_view* in, MessageKey* k);
bool Decode(std::string_view* in, MessageHeader* h);
bool Decode(std::string_view* in, StateRecord* s);
bool Decode(std::string_view* in, PurgeMark* p);
bool Decode(std::string_view* in, DedupHeader* h);

// A StoredMessage and its records. A message record (kMessage,
// kMessageMoved) holds all of a message but its body; its state record
// (kMessageState) the part that receives change, which replaces that part.
struct EncodedMessage {
  Encoded<MessageHeader> header;
  std::string record;  // MessageRecord
  // The bytes before a kMessage's body.
  size_t size() const { return header.size() + record.size(); }
};
// `body_ref` and `body_size` go in the header: those of the message for a
// kMessageMoved; 0 and the size of the body that follows for a kMessage.
EncodedMessage EncodeMessage(uint64_t incarnation, const StoredMessage& m, uint64_t body_ref,
                             uint32_t body_size);
struct DecodedMessage {
  uint64_t incarnation;
  StoredMessage message;  // its body_ref is where its body is
};
// Decodes a kMessage or kMessageMoved record, found at `r.position`.
Result<DecodedMessage> DecodeMessage(const LogRecord& r);
StateRecord StateOf(uint64_t incarnation, const StoredMessage& m);
Result<StateRecord> DecodeState(std::string_view payload);
void ApplyState(const StateRecord& s, StoredMessage* m);

// The Protocol Buffers records.
std::string EncodeMeta(uint64_t receipt_secret, uint64_t next_incarnation);
Result<storage::BrokerMeta> DecodeMeta(std::string_view payload);
std::string EncodeQueue(const Queue& q);
Result<storage::QueueRecord> DecodeQueue(std::string_view payload);
std::string EncodeMoveTasks(const MoveTasks& tasks);
Result<storage::MoveTasksRecord> DecodeMoveTasks(std::string_view payload);
std::list<MoveTask> MoveTasksOf(const storage::MoveTasksRecord& r);

// A kDedup record is DedupHeader, the id, then EncodeDedupEntry's bytes.
std::string EncodeDedupEntry(const DedupWindow::Entry& entry);
struct DecodedDedup {
  uint64_t incarnation;
  std::string id;
  DedupWindow::Entry entry;
};
Result<DecodedDedup> DecodeDedup(std::string_view payload);

}  // namespace sluice

#endif  // SLUICE_BROKER_STORAGE_RECORD_CODEC_H_
