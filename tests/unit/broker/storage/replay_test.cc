// Replay, record by record, without a log: each record type's effect on the
// recovered state, records about messages the log no longer holds skipped,
// and records that cannot be read refused as corruption.
#include "broker/storage/replay.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "broker/storage/record_codec.h"

namespace sluice {
namespace {

class ReplayTest : public ::testing::Test {
 protected:
  // Applies a record made of `payload`, at a position of its own.
  Status Apply(uint32_t type, std::string payload) {
    payloads_.push_back(std::move(payload));
    const LogPosition at = (LogPosition{1} << 32) | (100 * payloads_.size());
    return ApplyRecord(LogRecord{type, payloads_.back(), at}, &state_);
  }
  void ApplyOk(uint32_t type, std::string payload) {
    Status s = Apply(type, std::move(payload));
    EXPECT_TRUE(s.ok()) << s.detail();
  }
  void AddMessage(uint64_t incarnation, uint64_t seq, const std::string& body = "body") {
    StoredMessage m;
    m.seq = seq;
    m.message_id = "m" + std::to_string(incarnation) + "-" + std::to_string(seq);
    const EncodedMessage e = EncodeMessage(incarnation, m, 0, static_cast<uint32_t>(body.size()));
    ApplyOk(kMessage, std::string(View(e.header)) + e.record + body);
  }
  void AddDedup(uint64_t incarnation, const std::string& id) {
    ApplyOk(kDedup,
            std::string(View(Encode(DedupHeader{incarnation, static_cast<uint32_t>(id.size())}))) +
                id + EncodeDedupEntry({"m", 1, 2}));
  }
  std::vector<std::pair<uint64_t, uint64_t>> MessageKeys() const {
    std::vector<std::pair<uint64_t, uint64_t>> keys;
    for (const auto& [key, m] : state_.messages) keys.push_back(key);
    return keys;
  }

  RecoveredState state_;
  std::vector<std::string> payloads_;  // kept: records point into them
};

using Keys = std::vector<std::pair<uint64_t, uint64_t>>;

TEST_F(ReplayTest, MetaQueueAndMoveTasksRecordsKeepTheLatest) {
  EXPECT_FALSE(state_.has_meta);
  ApplyOk(kMeta, EncodeMeta(11, 2));
  ApplyOk(kMeta, EncodeMeta(11, 5));
  EXPECT_TRUE(state_.has_meta);
  EXPECT_EQ(state_.meta.next_incarnation(), 5u);

  storage::QueueRecord q;
  q.set_name("q");
  q.set_incarnation(3);
  q.set_next_seq(1);
  ApplyOk(kQueue, q.SerializeAsString());
  q.set_next_seq(9);
  ApplyOk(kQueue, q.SerializeAsString());
  ASSERT_EQ(state_.queues.size(), 1u);
  EXPECT_EQ(state_.queues.at(3).next_seq(), 9u);

  storage::MoveTasksRecord tasks;
  tasks.set_next_id(4);
  ApplyOk(kMoveTasks, tasks.SerializeAsString());
  EXPECT_EQ(state_.move_tasks.next_id(), 4u);
}

TEST_F(ReplayTest, MessageBodyIsFoundAfterItsRecord) {
  AddMessage(1, 1, "hello");
  const StoredMessage& m = state_.messages.at({1, 1});
  EXPECT_EQ(m.body_size, 5u);
  std::string_view payload = payloads_.back();
  EXPECT_EQ(payload.substr(payload.size() - 5), "hello");
  EXPECT_EQ(m.body_ref, ((LogPosition{1} << 32) | 100) + payload.size() - 5);
}

TEST_F(ReplayTest, StateRecordUpdatesItsMessageAndIsSkippedWithoutOne) {
  AddMessage(1, 1);
  StoredMessage received;
  received.seq = 1;
  received.receive_count = 2;
  received.state = MessageState::kInFlight;
  received.available_at = 5000;
  ApplyOk(kMessageState, std::string(View(Encode(StateOf(1, received)))));
  const StoredMessage& m = state_.messages.at({1, 1});
  EXPECT_EQ(m.receive_count, 2u);
  EXPECT_EQ(m.state, MessageState::kInFlight);
  EXPECT_EQ(m.available_at, 5000);

  // Of a message a compaction copied away: skipped.
  received.seq = 2;
  ApplyOk(kMessageState, std::string(View(Encode(StateOf(1, received)))));
  EXPECT_EQ(MessageKeys(), (Keys{{1, 1}}));
}

TEST_F(ReplayTest, RemovalPurgeAndQueueDeletionDropWhatTheyName) {
  for (uint64_t seq = 1; seq <= 4; ++seq) AddMessage(1, seq);
  AddMessage(2, 1);
  AddMessage(3, 1);
  AddDedup(2, "a");
  AddDedup(3, "b");
  ApplyOk(kMessageRemoved, std::string(View(Encode(MessageKey{1, 2}))));
  EXPECT_EQ(MessageKeys(), (Keys{{1, 1}, {1, 3}, {1, 4}, {2, 1}, {3, 1}}));
  // The messages below position 4 of queue 1.
  ApplyOk(kQueuePurged, std::string(View(Encode(PurgeMark{1, 4}))));
  EXPECT_EQ(MessageKeys(), (Keys{{1, 4}, {2, 1}, {3, 1}}));
  // Queue 2's messages and ids.
  storage::QueueRecord q;
  q.set_incarnation(2);
  ApplyOk(kQueue, q.SerializeAsString());
  ApplyOk(kQueueDeleted, std::string(View(Encode(QueueKey{2}))));
  EXPECT_EQ(MessageKeys(), (Keys{{1, 4}, {3, 1}}));
  EXPECT_TRUE(state_.queues.empty());
  ASSERT_EQ(state_.dedups.size(), 1u);
  EXPECT_EQ(state_.dedups.begin()->first, (std::pair<uint64_t, std::string>{3, "b"}));
}

TEST_F(ReplayTest, ForgottenDeduplicationIdGoes) {
  AddDedup(1, "a");
  AddDedup(1, "b");
  ApplyOk(kDedupForgotten, std::string(View(Encode(QueueKey{1}))) + "a");
  ASSERT_EQ(state_.dedups.size(), 1u);
  EXPECT_EQ(state_.dedups.begin()->first.second, "b");
}

TEST_F(ReplayTest, ShortOrUnknownRecordsAreCorruption) {
  const std::vector<std::pair<uint32_t, std::string>> refused = {
      {kQueueDeleted, "Corruption: short queue deletion record"},
      {kMessage, "Corruption: unreadable message record"},
      {kMessageMoved, "Corruption: unreadable message record"},
      {kMessageState, "Corruption: unreadable message state"},
      {kMessageRemoved, "Corruption: short message removal record"},
      {kQueuePurged, "Corruption: short purge record"},
      {kDedup, "Corruption: unreadable deduplication record"},
      {kDedupForgotten, "Corruption: short deduplication record"},
      {12, "Corruption: unknown record type 12"},
  };
  for (const auto& [type, detail] : refused) {
    Status s = Apply(type, "short");
    EXPECT_FALSE(s.ok()) << "type " << type;
    EXPECT_EQ(s.ToString(), detail) << "type " << type;
  }
}

}  // namespace
}  // namespace sluice
