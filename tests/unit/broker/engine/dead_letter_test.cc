// Dead-letter queues: the redrive policy's rules and the move of a message
// received maxReceiveCount times.
#include <map>
#include <string>
#include <vector>

#include "tests/unit/broker/engine/engine_test_util.h"

namespace sluice::testing {
namespace {

class DeadLetterTest : public EveryJournalTest {
 protected:
  DeadLetterTest() {
    EXPECT_OK(CreateQueue("dlq"));
    EXPECT_OK(CreateQueue("src", {{"RedrivePolicy", RedrivePolicyJson("dlq", 2)}}));
  }

  // Receives from `queue` and lets the visibility timeout run out.
  std::vector<pb::Message> ReceiveAndAbandon(const std::string& queue) {
    std::vector<pb::Message> got = Receive(queue, 10, /*visibility_timeout=*/10);
    AdvanceSeconds(10);
    return got;
  }
};

INSTANTIATE_TEST_SUITE_P(Journals, DeadLetterTest, EveryJournal(), JournalParamName);

// A standard queue's deduplication id makes its send idempotent (a Sluice
// extension); moving the message to the dead-letter queue is not a send there.
TEST_P(DeadLetterTest, MoveDoesNotMakeADeduplicationIdKnownToTheDeadLetterQueue) {
  pb::SendMessageEntry e = Entry("job");
  e.set_message_deduplication_id("upload-1");
  Send("src", e);
  ReceiveAndAbandon("src");
  ReceiveAndAbandon("src");
  ASSERT_TRUE(Receive("src").empty());
  ASSERT_EQ(Visible("dlq"), 1);
  Send("dlq", e);
  EXPECT_EQ(Visible("dlq"), 2);
}

// --- Redrive policy -------------------------------------------------------------

TEST_P(DeadLetterTest, RedrivePolicyIsReportedWithTheTargetsArn) {
  EXPECT_EQ(GetAttributes("src")["RedrivePolicy"],
            "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:dlq\","
            "\"maxReceiveCount\":2}");
}

TEST_P(DeadLetterTest, RedrivePolicyTakesMaxReceiveCountAsStringOrNumber) {
  ASSERT_OK(SetAttributes(
      "src",
      {{"RedrivePolicy",
        "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:1:dlq\",\"maxReceiveCount\":\"5\"}"}}));
  EXPECT_EQ(GetAttributes("src")["RedrivePolicy"], RedrivePolicyJson("dlq", 5));
}

TEST_P(DeadLetterTest, MaxReceiveCountRangeIsOneToAThousand) {
  EXPECT_OK(SetAttributes("src", {{"RedrivePolicy", RedrivePolicyJson("dlq", 1)}}));
  EXPECT_OK(SetAttributes("src", {{"RedrivePolicy", RedrivePolicyJson("dlq", 1000)}}));
  EXPECT_CODE(SetAttributes("src", {{"RedrivePolicy", RedrivePolicyJson("dlq", 0)}}),
              kInvalidAttributeValue);
  EXPECT_CODE(SetAttributes("src", {{"RedrivePolicy", RedrivePolicyJson("dlq", 1001)}}),
              kInvalidAttributeValue);
  EXPECT_EQ(GetAttributes("src")["RedrivePolicy"], RedrivePolicyJson("dlq", 1000));
}

TEST_P(DeadLetterTest, MalformedRedrivePolicyIsInvalidAttributeValue) {
  for (const char* policy : {"not json", "[]", "{\"maxReceiveCount\":3}",
                             "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:dlq\"}",
                             "{\"deadLetterTargetArn\":7,\"maxReceiveCount\":3}",
                             "{\"deadLetterTargetArn\":\"dlq\",\"maxReceiveCount\":\"three\"}"}) {
    EXPECT_CODE(CreateQueue("other", {{"RedrivePolicy", policy}}), kInvalidAttributeValue)
        << policy;
  }
}

TEST_P(DeadLetterTest, DeadLetterQueueMustExist) {
  EXPECT_CODE(CreateQueue("other", {{"RedrivePolicy", RedrivePolicyJson("missing", 3)}}),
              kQueueDoesNotExist);
  EXPECT_CODE(SetAttributes("src", {{"RedrivePolicy", RedrivePolicyJson("missing", 3)}}),
              kQueueDoesNotExist);
  EXPECT_EQ(GetAttributes("src")["RedrivePolicy"], RedrivePolicyJson("dlq", 2));
}

TEST_P(DeadLetterTest, DeadLetterQueueMustBeOfTheSameType) {
  ASSERT_OK(CreateQueue("dlq.fifo"));
  EXPECT_CODE(CreateQueue("a", {{"RedrivePolicy", RedrivePolicyJson("dlq.fifo", 3)}}),
              kInvalidParameterValue);
  EXPECT_CODE(CreateQueue("a.fifo", {{"RedrivePolicy", RedrivePolicyJson("dlq", 3)}}),
              kInvalidParameterValue);
  EXPECT_OK(CreateQueue("a.fifo", {{"RedrivePolicy", RedrivePolicyJson("dlq.fifo", 3)}}));
}

TEST_P(DeadLetterTest, SourceStaysConfigurableAfterItsDeadLetterQueueIsDeleted) {
  ASSERT_OK(DeleteQueue("dlq"));
  // Attributes other than the policy do not depend on the dead-letter queue.
  EXPECT_OK(SetAttributes("src", {{"VisibilityTimeout", "10"}}));
  EXPECT_EQ(GetAttributes("src")["VisibilityTimeout"], "10");
  // Setting the policy again does, and it is checked.
  EXPECT_CODE(SetAttributes("src", {{"RedrivePolicy", RedrivePolicyJson("dlq", 2)}}),
              kQueueDoesNotExist);
  EXPECT_OK(SetAttributes("src", {{"RedrivePolicy", ""}}));
}

TEST_P(DeadLetterTest, CreateQueueStaysIdempotentAfterTheDeadLetterQueueIsDeleted) {
  ASSERT_OK(DeleteQueue("dlq"));
  EXPECT_OK(CreateQueue("src", {{"RedrivePolicy", RedrivePolicyJson("dlq", 2)}}));
  EXPECT_CODE(CreateQueue("src"), kQueueNameExists);
  EXPECT_CODE(CreateQueue("new", {{"RedrivePolicy", RedrivePolicyJson("dlq", 2)}}),
              kQueueDoesNotExist);
}

TEST_P(DeadLetterTest, QueueCannotBeItsOwnDeadLetterQueue) {
  EXPECT_CODE(SetAttributes("src", {{"RedrivePolicy", RedrivePolicyJson("src", 3)}}),
              kInvalidParameterValue);
}

TEST_P(DeadLetterTest, EmptyRedrivePolicyRemovesIt) {
  ASSERT_OK(SetAttributes("src", {{"RedrivePolicy", ""}}));
  EXPECT_FALSE(GetAttributes("src").contains("RedrivePolicy"));
  Send("src", "m");
  for (int i = 0; i < 5; ++i) ASSERT_EQ(ReceiveAndAbandon("src").size(), 1u);
  EXPECT_EQ(Visible("dlq"), 0);
}

// --- The move -----------------------------------------------------------------

TEST_P(DeadLetterTest, MessageMovesAfterMaxReceiveCountReceives) {
  Send("src", "m");
  ASSERT_EQ(ReceiveAndAbandon("src").size(), 1u);
  ASSERT_EQ(ReceiveAndAbandon("src").size(), 1u);
  EXPECT_EQ(Visible("dlq"), 0);  // moved only when it would be received a third time
  EXPECT_EQ(Visible("src"), 1);
  EXPECT_TRUE(Receive("src").empty());
  EXPECT_EQ(Visible("src"), 0);
  EXPECT_EQ(InFlight("src"), 0);
  EXPECT_EQ(Visible("dlq"), 1);
}

TEST_P(DeadLetterTest, MessageDeletedBeforeTheLimitStays) {
  Send("src", "m");
  ReceiveAndAbandon("src");
  std::vector<pb::Message> got = Receive("src");
  ASSERT_EQ(got.size(), 1u);
  ASSERT_OK(DeleteMessage("src", got[0].receipt_handle()));
  EXPECT_EQ(Visible("dlq"), 0);
}

TEST_P(DeadLetterTest, DeadLetteredMessageKeepsIdBodyAttributesAndSource) {
  pb::SendMessageEntry e = Entry("payload");
  (*e.mutable_message_attributes())["color"] = StringAttr("red");
  const Millis sent_at = Now();
  const pb::SendMessageResult sent = Send("src", e);
  ReceiveAndAbandon("src");
  ReceiveAndAbandon("src");
  ASSERT_TRUE(Receive("src").empty());

  std::vector<pb::Message> got = Receive("dlq");
  ASSERT_EQ(got.size(), 1u);
  const pb::Message& m = got[0];
  EXPECT_EQ(m.message_id(), sent.message_id());
  EXPECT_EQ(m.body(), "payload");
  EXPECT_EQ(m.md5_of_body(), sent.md5_of_message_body());
  ASSERT_EQ(m.message_attributes().size(), 1u);
  EXPECT_EQ(m.message_attributes().at("color").string_value(), "red");
  EXPECT_EQ(m.md5_of_message_attributes(), sent.md5_of_message_attributes());
  EXPECT_EQ(m.attributes().at("DeadLetterQueueSourceArn"),
            "arn:aws:sqs:us-east-1:000000000000:src");
  EXPECT_EQ(m.attributes().at("SentTimestamp"), std::to_string(sent_at));
}

TEST_P(DeadLetterTest, MovedMessageDoesNotCountAgainstTheReceive) {
  Send("src", "poison");
  ReceiveAndAbandon("src");
  ReceiveAndAbandon("src");
  Send("src", "fresh");
  EXPECT_EQ(ReceiveBodies("src", 1), (std::vector<std::string>{"fresh"}));
  EXPECT_EQ(Visible("dlq"), 1);
}

TEST_P(DeadLetterTest, OldHandleOfTheSourceQueueChangesNothingInTheDeadLetterQueue) {
  Send("src", "m");
  ReceiveAndAbandon("src");
  std::vector<pb::Message> last = ReceiveAndAbandon("src");
  ASSERT_EQ(last.size(), 1u);
  ASSERT_TRUE(Receive("src").empty());
  EXPECT_CODE(DeleteMessage("dlq", last[0].receipt_handle()), kReceiptHandleIsInvalid);
  EXPECT_EQ(Visible("dlq"), 1);
}

TEST_P(DeadLetterTest, StandardDeadLetterQueueKeepsTheOriginalEnqueueTime) {
  ASSERT_OK(SetAttributes("dlq", {{"MessageRetentionPeriod", "60"}}));
  Send("src", "old");
  AdvanceSeconds(40);
  ReceiveAndAbandon("src");  // t = 50 s
  ReceiveAndAbandon("src");  // t = 60 s
  ASSERT_TRUE(Receive("src").empty());
  // 60 s after its send, the message is past the DLQ's retention period.
  EXPECT_EQ(Visible("dlq"), 0);
}

TEST_P(DeadLetterTest, StandardDeadLetterQueueRetainsFromTheSendTime) {
  ASSERT_OK(SetAttributes("dlq", {{"MessageRetentionPeriod", "120"}}));
  Send("src", "m");
  ReceiveAndAbandon("src");  // t = 10 s
  ReceiveAndAbandon("src");  // t = 20 s
  ASSERT_TRUE(Receive("src").empty());
  EXPECT_EQ(Visible("dlq"), 1);
  AdvanceSeconds(99);  // t = 119 s
  EXPECT_EQ(Visible("dlq"), 1);
  AdvanceSeconds(1);
  EXPECT_EQ(Visible("dlq"), 0);
}

TEST_P(DeadLetterTest, DeadLetterQueueCountsItsOwnReceives) {
  Send("src", "m");
  ReceiveAndAbandon("src");
  ReceiveAndAbandon("src");
  ASSERT_TRUE(Receive("src").empty());
  std::vector<pb::Message> got = Receive("dlq");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].attributes().at("ApproximateReceiveCount"), "1");
}

TEST_P(DeadLetterTest, WithoutTheDeadLetterQueueMessagesStayAndKeepComing) {
  ASSERT_OK(DeleteQueue("dlq"));
  Send("src", "m");
  for (int i = 0; i < 4; ++i) {
    std::vector<pb::Message> got = ReceiveAndAbandon("src");
    ASSERT_EQ(got.size(), 1u) << "receive " << i;
    EXPECT_EQ(got[0].attributes().at("ApproximateReceiveCount"), std::to_string(i + 1));
  }
}

TEST_P(DeadLetterTest, LoweringMaxReceiveCountAppliesToMessagesAlreadyReceived) {
  Send("src", "m");
  ReceiveAndAbandon("src");
  ASSERT_OK(SetAttributes("src", {{"RedrivePolicy", RedrivePolicyJson("dlq", 1)}}));
  EXPECT_TRUE(Receive("src").empty());
  EXPECT_EQ(Visible("dlq"), 1);
}

TEST_P(DeadLetterTest, SeveralSourcesShareADeadLetterQueue) {
  ASSERT_OK(CreateQueue("src2", {{"RedrivePolicy", RedrivePolicyJson("dlq", 1)}}));
  Send("src", "from src");
  Send("src2", "from src2");
  ReceiveAndAbandon("src");
  ReceiveAndAbandon("src");
  ReceiveAndAbandon("src2");
  ASSERT_TRUE(Receive("src").empty());
  ASSERT_TRUE(Receive("src2").empty());
  std::vector<pb::Message> got = Receive("dlq");
  ASSERT_EQ(got.size(), 2u);
  std::map<std::string, std::string> source_of;
  for (const auto& m : got) source_of[m.body()] = m.attributes().at("DeadLetterQueueSourceArn");
  EXPECT_EQ(source_of["from src"], ArnFormat{}.Of("src"));
  EXPECT_EQ(source_of["from src2"], ArnFormat{}.Of("src2"));
}

// --- FIFO ---------------------------------------------------------------------

class FifoDeadLetterTest : public DeadLetterTest {
 protected:
  FifoDeadLetterTest() {
    EXPECT_OK(CreateQueue("dlq.fifo", {{"MessageRetentionPeriod", "60"}}));
    EXPECT_OK(CreateQueue("src.fifo", {{"RedrivePolicy", RedrivePolicyJson("dlq.fifo", 1)}}));
  }
};

INSTANTIATE_TEST_SUITE_P(Journals, FifoDeadLetterTest, EveryJournal(), JournalParamName);

TEST_P(FifoDeadLetterTest, MessageMovesKeepingItsGroup) {
  const pb::SendMessageResult sent = Send("src.fifo", FifoEntry("m", "g", "d"));
  ReceiveAndAbandon("src.fifo");
  ASSERT_TRUE(Receive("src.fifo").empty());
  std::vector<pb::Message> got = Receive("dlq.fifo");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].message_id(), sent.message_id());
  EXPECT_EQ(got[0].body(), "m");
  EXPECT_EQ(got[0].attributes().at("MessageGroupId"), "g");
  EXPECT_EQ(got[0].attributes().at("DeadLetterQueueSourceArn"), ArnFormat{}.Of("src.fifo"));
}

TEST_P(FifoDeadLetterTest, FifoDeadLetterQueueRestartsTheRetentionPeriod) {
  Send("src.fifo", FifoEntry("m", "g"));
  AdvanceSeconds(100);  // older than the DLQ's 60 s retention
  ReceiveAndAbandon("src.fifo");
  ASSERT_TRUE(Receive("src.fifo").empty());
  EXPECT_EQ(Visible("dlq.fifo"), 1);
  AdvanceSeconds(59);
  EXPECT_EQ(Visible("dlq.fifo"), 1);
  AdvanceSeconds(1);
  EXPECT_EQ(Visible("dlq.fifo"), 0);
}

TEST_P(FifoDeadLetterTest, MovingTheHeadReleasesTheRestOfTheGroup) {
  Send("src.fifo", FifoEntry("poison", "g"));
  Send("src.fifo", FifoEntry("next", "g"));
  ASSERT_EQ(ReceiveAndAbandon("src.fifo").size(), 2u);
  // poison and next both reached their limit: both move, in order.
  EXPECT_TRUE(Receive("src.fifo").empty());
  EXPECT_EQ(ReceiveBodies("dlq.fifo"), (std::vector<std::string>{"poison", "next"}));
}

TEST_P(FifoDeadLetterTest, GroupFlowsOnAfterItsHeadMoves) {
  Send("src.fifo", FifoEntry("poison", "g"));
  ASSERT_EQ(ReceiveAndAbandon("src.fifo").size(), 1u);
  Send("src.fifo", FifoEntry("next", "g"));
  EXPECT_EQ(ReceiveBodies("src.fifo"), (std::vector<std::string>{"next"}));
  EXPECT_EQ(Visible("dlq.fifo"), 1);
}

}  // namespace
}  // namespace sluice::testing
