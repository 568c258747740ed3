// The record codec: each fixed part's bytes are pinned against a literal,
// so that a change of layout, width or byte order (which would be a new log
// format) fails here; messages, their states and deduplication ids come
// back as they were encoded; payloads cut short are refused.
#include "broker/storage/record_codec.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace sluice {
namespace {

// Hex of `bytes`, two digits a byte, for readable literals and failures.
std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

template <size_t N>
std::string Hex(const std::array<char, N>& bytes) {
  return Hex(View(bytes));
}

TEST(RecordCodecTest, RecordTypesAreThoseOfTheFormat) {
  EXPECT_EQ(kMeta, 1u);
  EXPECT_EQ(kQueue, 2u);
  EXPECT_EQ(kQueueDeleted, 3u);
  EXPECT_EQ(kMessage, 4u);
  EXPECT_EQ(kMessageMoved, 5u);
  EXPECT_EQ(kMessageState, 6u);
  EXPECT_EQ(kMessageRemoved, 7u);
  EXPECT_EQ(kDedup, 8u);
  EXPECT_EQ(kDedupForgotten, 9u);
  EXPECT_EQ(kMoveTasks, 10u);
  EXPECT_EQ(kQueuePurged, 11u);
}

TEST(RecordCodecTest, FixedPartsEncodeFieldByFieldLittleEndian) {
  EXPECT_EQ(Hex(Encode(QueueKey{0x0102030405060708})), "0807060504030201");
  EXPECT_EQ(Hex(Encode(MessageKey{0x0102030405060708, 0x1112131415161718})),
            "0807060504030201"
            "1817161514131211");
  EXPECT_EQ(Hex(Encode(PurgeMark{0x0102030405060708, 0x1112131415161718})),
            "0807060504030201"
            "1817161514131211");
  EXPECT_EQ(Hex(Encode(MessageHeader{0x0102030405060708, 0x1112131415161718, 0x2122232425262728,
                                     0x31323334, 0x41424344})),
            "0807060504030201"
            "1817161514131211"
            "2827262524232221"
            "34333231"
            "44434241");
  EXPECT_EQ(Hex(Encode(StateRecord{0x0102030405060708, 0x1112131415161718, 0x21222324, -2,
                                   0x3132333435363738, -0x4142434445464748, 0x5152535455565758,
                                   0x6162636465666768})),
            "0807060504030201"
            "1817161514131211"
            "24232221"
            "feffffff"
            "3837363534333231"
            "b8b8b9babbbcbdbe"
            "5857565554535251"
            "6867666564636261");
  EXPECT_EQ(Hex(Encode(DedupHeader{0x0102030405060708, 0x11121314})),
            "0807060504030201"
            "14131211");
}

TEST(RecordCodecTest, FixedPartsDecodeWhatWasEncodedAndConsumeIt) {
  const StateRecord s{7, 9, 3, 2, -5, 1'700'000'000'000, 1'700'000'030'000, 42};
  const Encoded<StateRecord> bytes = Encode(s);
  std::string payload(View(bytes));
  payload += "rest";
  std::string_view in = payload;
  StateRecord back{};
  ASSERT_TRUE(Decode(&in, &back));
  EXPECT_EQ(in, "rest");
  EXPECT_EQ(Hex(Encode(back)), Hex(bytes));

  std::string_view short_in = std::string_view(payload).substr(0, StateRecord::kBytes - 1);
  EXPECT_FALSE(Decode(&short_in, &back));
  EXPECT_EQ(short_in.size(), StateRecord::kBytes - 1) << "a failed decode consumed its input";
}

StoredMessage SampleMessage() {
  StoredMessage m;
  m.seq = 17;
  m.message_id = "id-17";
  m.md5_of_body = "md5b";
  pb::MessageAttributeValue v;
  v.set_data_type("String");
  v.set_string_value("blue");
  m.attributes["colour"] = v;
  m.md5_of_attributes = "md5a";
  m.sent_at = 1000;
  m.enqueued_at = 1001;
  m.first_received_at = 1002;
  m.receive_count = 3;
  m.state = MessageState::kInFlight;
  m.available_at = 1003;
  m.received_at = 1004;
  m.receipt_seq = 5;
  m.group_id = "g";
  m.deduplication_id = "d";
  m.sequence_number = 6;
  m.dead_letter_source = "src";
  return m;
}

void ExpectSameMessage(const StoredMessage& a, const StoredMessage& b) {
  EXPECT_EQ(a.seq, b.seq);
  EXPECT_EQ(a.message_id, b.message_id);
  EXPECT_EQ(a.md5_of_body, b.md5_of_body);
  ASSERT_EQ(a.attributes.size(), b.attributes.size());
  EXPECT_EQ(a.attributes.at("colour").string_value(), b.attributes.at("colour").string_value());
  EXPECT_EQ(a.md5_of_attributes, b.md5_of_attributes);
  EXPECT_EQ(a.sent_at, b.sent_at);
  EXPECT_EQ(a.enqueued_at, b.enqueued_at);
  EXPECT_EQ(a.first_received_at, b.first_received_at);
  EXPECT_EQ(a.receive_count, b.receive_count);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.available_at, b.available_at);
  EXPECT_EQ(a.received_at, b.received_at);
  EXPECT_EQ(a.receipt_seq, b.receipt_seq);
  EXPECT_EQ(a.group_id, b.group_id);
  EXPECT_EQ(a.deduplication_id, b.deduplication_id);
  EXPECT_EQ(a.sequence_number, b.sequence_number);
  EXPECT_EQ(a.dead_letter_source, b.dead_letter_source);
}

TEST(RecordCodecTest, MessageComesBackWithItsBodyAfterItsRecord) {
  const StoredMessage m = SampleMessage();
  const std::string body = "the body";
  const EncodedMessage e = EncodeMessage(4, m, 0, static_cast<uint32_t>(body.size()));
  const std::string payload = std::string(View(e.header)) + e.record + body;
  ASSERT_EQ(e.size(), payload.size() - body.size());
  const LogPosition at = (LogPosition{3} << 32) | 1000;
  auto decoded = DecodeMessage(LogRecord{kMessage, payload, at});
  ASSERT_TRUE(decoded.ok()) << decoded.status().detail();
  EXPECT_EQ(decoded->incarnation, 4u);
  ExpectSameMessage(decoded->message, m);
  EXPECT_EQ(decoded->message.body_ref, at + e.size());
  EXPECT_EQ(decoded->message.body_size, body.size());

  // A body shorter than the header says is refused.
  const std::string cut = payload.substr(0, payload.size() - 1);
  auto refused = DecodeMessage(LogRecord{kMessage, cut, at});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().ToString(), "Corruption: message body cut short");
}

TEST(RecordCodecTest, MovedMessageKeepsWhereItsBodyIs) {
  StoredMessage m = SampleMessage();
  const LogPosition body_at = (LogPosition{2} << 32) | 77;
  const EncodedMessage e = EncodeMessage(9, m, body_at, 123);
  const std::string payload = std::string(View(e.header)) + e.record;
  auto decoded = DecodeMessage(LogRecord{kMessageMoved, payload, LogPosition{5} << 32});
  ASSERT_TRUE(decoded.ok()) << decoded.status().detail();
  EXPECT_EQ(decoded->incarnation, 9u);
  ExpectSameMessage(decoded->message, m);
  EXPECT_EQ(decoded->message.body_ref, body_at);
  EXPECT_EQ(decoded->message.body_size, 123u);
}

TEST(RecordCodecTest, MessageOfAnUnknownStateOrCutShortIsCorrupt) {
  const EncodedMessage e = EncodeMessage(1, SampleMessage(), 0, 0);
  const std::string payload = std::string(View(e.header)) + e.record;
  auto refused = DecodeMessage(LogRecord{kMessageMoved, payload.substr(0, 20), 0});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().ToString(), "Corruption: unreadable message record");

  storage::MessageRecord r;
  r.set_state(99);
  const std::string record = r.SerializeAsString();
  const std::string bad =
      std::string(View(Encode(MessageHeader{1, 1, 0, 0, static_cast<uint32_t>(record.size())}))) +
      record;
  refused = DecodeMessage(LogRecord{kMessageMoved, bad, 0});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().ToString(), "Corruption: message record has unknown state 99");
}

TEST(RecordCodecTest, StateRecordCarriesWhatAReceiveChanges) {
  StoredMessage m = SampleMessage();
  const StateRecord s = StateOf(8, m);
  auto decoded = DecodeState(View(Encode(s)));
  ASSERT_TRUE(decoded.ok()) << decoded.status().detail();
  StoredMessage other;
  ApplyState(*decoded, &other);
  EXPECT_EQ(decoded->incarnation, 8u);
  EXPECT_EQ(decoded->seq, m.seq);
  EXPECT_EQ(other.receive_count, m.receive_count);
  EXPECT_EQ(other.state, m.state);
  EXPECT_EQ(other.first_received_at, m.first_received_at);
  EXPECT_EQ(other.received_at, m.received_at);
  EXPECT_EQ(other.available_at, m.available_at);
  EXPECT_EQ(other.receipt_seq, m.receipt_seq);

  StateRecord unknown = s;
  unknown.state = 99;
  EXPECT_FALSE(DecodeState(View(Encode(unknown))).ok());
  EXPECT_FALSE(DecodeState(std::string_view(View(Encode(s))).substr(1)).ok());
}

TEST(RecordCodecTest, DeduplicationIdComesBackWithItsEntry) {
  const std::string id = "dedup-id";
  const DedupWindow::Entry entry{"message", 12, 3456};
  const std::string payload =
      std::string(View(Encode(DedupHeader{5, 8}))) + id + EncodeDedupEntry(entry);
  auto decoded = DecodeDedup(payload);
  ASSERT_TRUE(decoded.ok()) << decoded.status().detail();
  EXPECT_EQ(decoded->incarnation, 5u);
  EXPECT_EQ(decoded->id, id);
  EXPECT_EQ(decoded->entry.message_id, "message");
  EXPECT_EQ(decoded->entry.sequence_number, 12u);
  EXPECT_EQ(decoded->entry.expires_at, 3456);

  // An id longer than the payload is refused.
  const std::string bad = std::string(View(Encode(DedupHeader{5, 100}))) + id;
  EXPECT_FALSE(DecodeDedup(bad).ok());
}

TEST(RecordCodecTest, UnreadableProtocolBufferRecordsAreCorrupt) {
  const std::string garbage = "\xff\xff\xff";
  EXPECT_EQ(DecodeMeta(garbage).status().ToString(), "Corruption: unreadable meta record");
  EXPECT_EQ(DecodeQueue(garbage).status().ToString(), "Corruption: unreadable queue record");
  EXPECT_EQ(DecodeMoveTasks(garbage).status().ToString(),
            "Corruption: unreadable message move task record");
  auto meta = DecodeMeta(EncodeMeta(0xabcdef, 12));
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->receipt_secret(), 0xabcdefu);
  EXPECT_EQ(meta->next_incarnation(), 12u);
}

}  // namespace
}  // namespace sluice
