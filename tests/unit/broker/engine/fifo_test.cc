// FIFO queues: group ids, order within a group, groups held while in flight,
// deduplication, sequence numbers and receive attempt ids.
#include <string>
#include <vector>

#include "tests/unit/broker/engine/engine_test_util.h"

namespace sluice::testing {
namespace {

constexpr Millis kFiveMinutes = 5 * 60 * 1000;

// "m<i>", built by appending: GCC 12 at -O3 sees `"m" + std::to_string(i)`
// copy into itself and warns (-Wrestrict), falsely.
std::string NumberedBody(int i) {
  std::string body = "m";
  body += std::to_string(i);
  return body;
}

class FifoTest : public EveryJournalTest {
 protected:
  FifoTest() {
    EXPECT_OK(CreateQueue("q.fifo"));
    EXPECT_OK(CreateQueue("cbd.fifo", {{"ContentBasedDeduplication", "true"}}));
  }

  // Sends `body` in `group` with the body as its deduplication id.
  pb::SendMessageResult SendTo(const std::string& group, const std::string& body) {
    return Send("q.fifo", FifoEntry(body, group));
  }

  std::vector<std::string> Bodies(const std::vector<pb::Message>& messages) {
    std::vector<std::string> out;
    for (const auto& m : messages) out.push_back(m.body());
    return out;
  }
};

INSTANTIATE_TEST_SUITE_P(Journals, FifoTest, EveryJournal(), JournalParamName);

// --- Send rules ---------------------------------------------------------------

TEST_P(FifoTest, SendWithoutGroupIdIsMissingParameter) {
  pb::SendMessageEntry e = Entry("m");
  e.set_message_deduplication_id("d");
  EXPECT_CODE(SendEntry("q.fifo", e), kMissingParameter);
  EXPECT_EQ(Visible("q.fifo"), 0);
}

TEST_P(FifoTest, GroupIdIsOneTo128PrintableAsciiCharacters) {
  EXPECT_OK(SendEntry("q.fifo", FifoEntry("a", std::string(128, 'g'))));
  EXPECT_OK(SendEntry("q.fifo", FifoEntry("b", "!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")));
  EXPECT_CODE(SendEntry("q.fifo", FifoEntry("c", std::string(129, 'g'))), kInvalidParameterValue);
  EXPECT_CODE(SendEntry("q.fifo", FifoEntry("d", "with space")), kInvalidParameterValue);
  EXPECT_CODE(SendEntry("q.fifo", FifoEntry("e", "caf\xc3\xa9")), kInvalidParameterValue);
  EXPECT_EQ(Visible("q.fifo"), 2);
}

TEST_P(FifoTest, DeduplicationIdIsOneTo128PrintableAsciiCharacters) {
  EXPECT_OK(SendEntry("q.fifo", FifoEntry("a", "g", std::string(128, 'd'))));
  EXPECT_CODE(SendEntry("q.fifo", FifoEntry("b", "g", std::string(129, 'd'))),
              kInvalidParameterValue);
  EXPECT_CODE(SendEntry("q.fifo", FifoEntry("c", "g", "tab\there")), kInvalidParameterValue);
  EXPECT_EQ(Visible("q.fifo"), 1);
}

TEST_P(FifoTest, SendWithoutDeduplicationIdNeedsContentBasedDeduplication) {
  pb::SendMessageEntry e = Entry("m");
  e.set_message_group_id("g");
  EXPECT_CODE(SendEntry("q.fifo", e), kInvalidParameterValue);
  EXPECT_OK(SendEntry("cbd.fifo", e));
  EXPECT_EQ(Visible("q.fifo"), 0);
  EXPECT_EQ(Visible("cbd.fifo"), 1);
}

TEST_P(FifoTest, PerMessageDelayIsRejected) {
  for (int delay : {0, 5}) {
    pb::SendMessageEntry e = FifoEntry("m", "g");
    e.set_delay_seconds(delay);
    EXPECT_CODE(SendEntry("q.fifo", e), kInvalidParameterValue) << delay;
  }
  EXPECT_EQ(Visible("q.fifo") + Delayed("q.fifo"), 0);
}

TEST_P(FifoTest, QueueLevelDelayApplies) {
  ASSERT_OK(CreateQueue("slow.fifo", {{"DelaySeconds", "10"}}));
  Send("slow.fifo", FifoEntry("m", "g"));
  EXPECT_EQ(Delayed("slow.fifo"), 1);
  AdvanceSeconds(9);
  EXPECT_TRUE(Receive("slow.fifo").empty());
  AdvanceSeconds(1);
  EXPECT_EQ(ReceiveBodies("slow.fifo"), (std::vector<std::string>{"m"}));
}

TEST_P(FifoTest, GroupIdIsForFifoQueuesOnly) {
  ASSERT_OK(CreateQueue("plain"));
  pb::SendMessageEntry grouped = Entry("m");
  grouped.set_message_group_id("g");
  EXPECT_CODE(SendEntry("plain", grouped), kInvalidParameterValue);
  EXPECT_EQ(Visible("plain"), 0);
}

// A Sluice extension: on a standard queue a deduplication id makes the send
// idempotent for five minutes (SQS rejects it there).
TEST_P(FifoTest, DeduplicationIdOnAStandardQueueMakesTheSendIdempotent) {
  ASSERT_OK(CreateQueue("plain"));
  pb::SendMessageEntry e = Entry("m");
  e.set_message_deduplication_id("upload-1");
  const pb::SendMessageResult first = Send("plain", e);
  AdvanceMillis(kFiveMinutes - 1000);
  EXPECT_EQ(Send("plain", e).message_id(), first.message_id());
  EXPECT_EQ(Visible("plain"), 1);
  AdvanceMillis(2000);
  EXPECT_NE(Send("plain", e).message_id(), first.message_id());
  EXPECT_EQ(Visible("plain"), 2);
  pb::SendMessageEntry plain = Entry("m");
  Send("plain", plain);
  Send("plain", plain);
  EXPECT_EQ(Visible("plain"), 4) << "without an id, every send is a new message";
}

TEST_P(FifoTest, DeduplicationIdOnAStandardQueueIsValidatedAsOnFifo) {
  ASSERT_OK(CreateQueue("plain"));
  pb::SendMessageEntry e = Entry("m");
  e.set_message_deduplication_id(std::string(129, 'd'));
  EXPECT_CODE(SendEntry("plain", e), kInvalidParameterValue);
  e.set_message_deduplication_id("with space");
  EXPECT_CODE(SendEntry("plain", e), kInvalidParameterValue);
  EXPECT_EQ(Visible("plain"), 0);
}

// --- Order and groups -------------------------------------------------------------

TEST_P(FifoTest, GroupIsDeliveredInSendOrder) {
  for (int i = 0; i < 5; ++i) SendTo("g", NumberedBody(i));
  std::vector<std::string> bodies;
  for (int i = 0; i < 5; ++i) {
    std::vector<pb::Message> got = Receive("q.fifo", 1);
    ASSERT_EQ(got.size(), 1u);
    bodies.push_back(got[0].body());
    ASSERT_OK(DeleteMessage("q.fifo", got[0].receipt_handle()));
  }
  EXPECT_EQ(bodies, (std::vector<std::string>{"m0", "m1", "m2", "m3", "m4"}));
}

TEST_P(FifoTest, OneReceiveReturnsSeveralMessagesOfAGroupInOrder) {
  for (int i = 0; i < 4; ++i) SendTo("g", NumberedBody(i));
  EXPECT_EQ(Bodies(Receive("q.fifo", 10)), (std::vector<std::string>{"m0", "m1", "m2", "m3"}));
}

TEST_P(FifoTest, GroupIsHeldWhileAMessageOfItIsInFlight) {
  SendTo("g", "first");
  SendTo("g", "second");
  std::vector<pb::Message> got = Receive("q.fifo", 1);
  ASSERT_EQ(Bodies(got), (std::vector<std::string>{"first"}));
  EXPECT_TRUE(Receive("q.fifo", 10).empty());
  EXPECT_EQ(Visible("q.fifo"), 1);  // second is there, only held
  ASSERT_OK(DeleteMessage("q.fifo", got[0].receipt_handle()));
  EXPECT_EQ(ReceiveBodies("q.fifo"), (std::vector<std::string>{"second"}));
}

TEST_P(FifoTest, ExpiredVisibilityReleasesTheGroupWithTheSameMessageFirst) {
  SendTo("g", "first");
  SendTo("g", "second");
  ASSERT_EQ(Bodies(Receive("q.fifo", 1)), (std::vector<std::string>{"first"}));
  AdvanceSeconds(29);
  EXPECT_TRUE(Receive("q.fifo").empty());
  AdvanceSeconds(1);
  std::vector<pb::Message> again = Receive("q.fifo", 10);
  EXPECT_EQ(Bodies(again), (std::vector<std::string>{"first", "second"}));
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(again[0].attributes().at("ApproximateReceiveCount"), "2");
}

TEST_P(FifoTest, ChangeVisibilityToZeroReleasesTheGroup) {
  SendTo("g", "first");
  SendTo("g", "second");
  std::vector<pb::Message> got = Receive("q.fifo", 1);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_OK(ChangeVisibility("q.fifo", got[0].receipt_handle(), 0));
  EXPECT_EQ(ReceiveBodies("q.fifo"), (std::vector<std::string>{"first", "second"}));
}

TEST_P(FifoTest, GroupStaysHeldWhileAnyOfItsDeliveredMessagesIsInFlight) {
  SendTo("g", "m0");
  SendTo("g", "m1");
  SendTo("g", "m2");
  std::vector<pb::Message> got = Receive("q.fifo", 2);
  ASSERT_EQ(Bodies(got), (std::vector<std::string>{"m0", "m1"}));
  ASSERT_OK(DeleteMessage("q.fifo", got[0].receipt_handle()));
  EXPECT_TRUE(Receive("q.fifo").empty());  // m1 still in flight
  ASSERT_OK(DeleteMessage("q.fifo", got[1].receipt_handle()));
  EXPECT_EQ(ReceiveBodies("q.fifo"), (std::vector<std::string>{"m2"}));
}

TEST_P(FifoTest, ReleasedHeadWaitsWhileALaterMessageOfItsGroupIsInFlight) {
  SendTo("g", "m0");
  SendTo("g", "m1");
  SendTo("h", "h0");
  std::vector<pb::Message> got = Receive("q.fifo", 2);
  ASSERT_EQ(Bodies(got), (std::vector<std::string>{"m0", "m1"}));
  ASSERT_OK(ChangeVisibility("q.fifo", got[0].receipt_handle(), 0));
  // m1 still holds group g; only the other group flows.
  EXPECT_EQ(Drain("q.fifo"), (std::vector<std::string>{"h0"}));
  ASSERT_OK(ChangeVisibility("q.fifo", got[1].receipt_handle(), 0));
  EXPECT_EQ(ReceiveBodies("q.fifo"), (std::vector<std::string>{"m0", "m1"}));
}

TEST_P(FifoTest, OrderHoldsEvenWhenALaterMessageComesBackFirst) {
  SendTo("g", "m0");
  SendTo("g", "m1");
  std::vector<pb::Message> got = Receive("q.fifo", 2);
  ASSERT_EQ(got.size(), 2u);
  ASSERT_OK(ChangeVisibility("q.fifo", got[1].receipt_handle(), 0));
  EXPECT_TRUE(Receive("q.fifo").empty());  // m0 still holds the group
  AdvanceSeconds(30);
  EXPECT_EQ(ReceiveBodies("q.fifo"), (std::vector<std::string>{"m0", "m1"}));
}

TEST_P(FifoTest, InFlightMessageThatExpiresReleasesItsGroup) {
  ASSERT_OK(
      CreateQueue("short.fifo", {{"MessageRetentionPeriod", "60"}, {"VisibilityTimeout", "600"}}));
  Send("short.fifo", FifoEntry("first", "g"));
  AdvanceSeconds(30);
  Send("short.fifo", FifoEntry("second", "g"));
  ASSERT_EQ(ReceiveBodies("short.fifo", 1), (std::vector<std::string>{"first"}));
  AdvanceSeconds(29);
  EXPECT_TRUE(Receive("short.fifo").empty());
  AdvanceSeconds(1);  // first reaches the end of its retention period in flight
  EXPECT_EQ(ReceiveBodies("short.fifo"), (std::vector<std::string>{"second"}));
}

TEST_P(FifoTest, OtherGroupsFlowWhileOneIsHeld) {
  SendTo("a", "a0");
  SendTo("a", "a1");
  SendTo("b", "b0");
  SendTo("b", "b1");
  ASSERT_EQ(Bodies(Receive("q.fifo", 1)), (std::vector<std::string>{"a0"}));
  EXPECT_EQ(Bodies(Receive("q.fifo", 10)), (std::vector<std::string>{"b0", "b1"}));
  EXPECT_TRUE(Receive("q.fifo", 10).empty());
}

TEST_P(FifoTest, ReceiveTakesOldestGroupFirstThenMovesOn) {
  SendTo("a", "a0");
  SendTo("b", "b0");
  SendTo("a", "a1");
  SendTo("c", "c0");
  EXPECT_EQ(Bodies(Receive("q.fifo", 10)), (std::vector<std::string>{"a0", "a1", "b0", "c0"}));
}

TEST_P(FifoTest, DelayedMessageDoesNotHoldOtherGroups) {
  ASSERT_OK(CreateQueue("slow.fifo", {{"DelaySeconds", "60"}}));
  Send("slow.fifo", FifoEntry("a0", "a"));
  ASSERT_OK(SetAttributes("slow.fifo", {{"DelaySeconds", "0"}}));
  Send("slow.fifo", FifoEntry("b0", "b"));
  EXPECT_EQ(Drain("slow.fifo"), (std::vector<std::string>{"b0"}));
  EXPECT_EQ(Delayed("slow.fifo"), 1);
  AdvanceSeconds(60);
  EXPECT_EQ(Drain("slow.fifo"), (std::vector<std::string>{"a0"}));
}

TEST_P(FifoTest, FifoSystemAttributes) {
  const Millis sent_at = Now();
  const pb::SendMessageResult sent = Send("q.fifo", FifoEntry("m", "grp", "dedup-1"));
  std::vector<pb::Message> got = Receive("q.fifo");
  ASSERT_EQ(got.size(), 1u);
  auto attrs = got[0].attributes();
  EXPECT_EQ(attrs["MessageGroupId"], "grp");
  EXPECT_EQ(attrs["MessageDeduplicationId"], "dedup-1");
  EXPECT_EQ(attrs["SequenceNumber"], sent.sequence_number());
  EXPECT_EQ(attrs["SentTimestamp"], std::to_string(sent_at));
  EXPECT_EQ(attrs["ApproximateReceiveCount"], "1");
}

TEST_P(FifoTest, ContentBasedDeduplicationIdIsTheBodysSha256) {
  pb::SendMessageEntry e = Entry("hello");
  e.set_message_group_id("g");
  Send("cbd.fifo", e);
  std::vector<pb::Message> got = Receive("cbd.fifo");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].attributes().at("MessageDeduplicationId"),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
}

// --- Sequence numbers --------------------------------------------------------------

TEST_P(FifoTest, SequenceNumbersIncreaseAcrossGroups) {
  std::string previous;
  for (int i = 0; i < 12; ++i) {
    const std::string seq = SendTo(i % 2 ? "a" : "b", NumberedBody(i)).sequence_number();
    ASSERT_FALSE(seq.empty());
    EXPECT_EQ(seq.find_first_not_of("0123456789"), std::string::npos) << seq;
    if (!previous.empty()) {
      EXPECT_GT(std::stoull(seq), std::stoull(previous));
      EXPECT_GT(seq, previous);  // also in text order, as clients may compare them so
    }
    previous = seq;
  }
}

TEST_P(FifoTest, SendBatchAssignsIncreasingSequenceNumbersInEntryOrder) {
  std::vector<pb::SendMessageEntry> entries;
  for (int i = 0; i < 3; ++i) {
    pb::SendMessageEntry e = FifoEntry(NumberedBody(i), "g");
    e.set_id("e" + std::to_string(i));
    entries.push_back(e);
  }
  pb::SendMessageBatchResponse resp;
  ASSERT_OK(SendBatch("q.fifo", entries, &resp));
  ASSERT_EQ(resp.successful_size(), 3);
  EXPECT_LT(resp.successful(0).sequence_number(), resp.successful(1).sequence_number());
  EXPECT_LT(resp.successful(1).sequence_number(), resp.successful(2).sequence_number());
  EXPECT_EQ(ReceiveBodies("q.fifo"), (std::vector<std::string>{"m0", "m1", "m2"}));
}

// --- Deduplication -----------------------------------------------------------------

TEST_P(FifoTest, DuplicateIdIsAcceptedButNotEnqueuedAgain) {
  const pb::SendMessageResult first = Send("q.fifo", FifoEntry("one", "g", "d"));
  const pb::SendMessageResult second = Send("q.fifo", FifoEntry("two", "g", "d"));
  EXPECT_EQ(second.message_id(), first.message_id());
  EXPECT_EQ(second.sequence_number(), first.sequence_number());
  EXPECT_EQ(Visible("q.fifo"), 1);
  EXPECT_EQ(ReceiveBodies("q.fifo"), (std::vector<std::string>{"one"}));
}

TEST_P(FifoTest, ContentBasedDuplicateIsAcceptedButNotEnqueuedAgain) {
  pb::SendMessageEntry e = Entry("same");
  e.set_message_group_id("g");
  const pb::SendMessageResult first = Send("cbd.fifo", e);
  const pb::SendMessageResult second = Send("cbd.fifo", e);
  pb::SendMessageEntry other = Entry("other");
  other.set_message_group_id("g");
  const pb::SendMessageResult third = Send("cbd.fifo", other);
  EXPECT_EQ(second.message_id(), first.message_id());
  EXPECT_NE(third.message_id(), first.message_id());
  EXPECT_EQ(Visible("cbd.fifo"), 2);
}

TEST_P(FifoTest, ExplicitDeduplicationIdOverridesContentBasedOne) {
  pb::SendMessageEntry a = FifoEntry("same", "g", "id-a");
  pb::SendMessageEntry b = FifoEntry("same", "g", "id-b");
  EXPECT_NE(Send("cbd.fifo", a).message_id(), Send("cbd.fifo", b).message_id());
  EXPECT_EQ(Visible("cbd.fifo"), 2);
}

TEST_P(FifoTest, DuplicateWithinOneBatchIsAcceptedOnce) {
  pb::SendMessageEntry a = FifoEntry("one", "g", "d");
  a.set_id("a");
  pb::SendMessageEntry b = FifoEntry("two", "g", "d");
  b.set_id("b");
  pb::SendMessageBatchResponse resp;
  ASSERT_OK(SendBatch("q.fifo", {a, b}, &resp));
  ASSERT_EQ(resp.successful_size(), 2);
  EXPECT_EQ(resp.successful(0).message_id(), resp.successful(1).message_id());
  EXPECT_EQ(Visible("q.fifo"), 1);
}

TEST_P(FifoTest, DeduplicationIdIsRememberedAfterTheMessageIsDeleted) {
  const pb::SendMessageResult first = Send("q.fifo", FifoEntry("one", "g", "d"));
  std::vector<pb::Message> got = Receive("q.fifo");
  ASSERT_EQ(got.size(), 1u);
  ASSERT_OK(DeleteMessage("q.fifo", got[0].receipt_handle()));
  AdvanceSeconds(60);
  EXPECT_EQ(Send("q.fifo", FifoEntry("again", "g", "d")).message_id(), first.message_id());
  EXPECT_TRUE(Receive("q.fifo").empty());
}

TEST_P(FifoTest, DeduplicationWindowIsFiveMinutes) {
  const pb::SendMessageResult first = Send("q.fifo", FifoEntry("one", "g", "d"));
  AdvanceMillis(kFiveMinutes - 1000);
  EXPECT_EQ(Send("q.fifo", FifoEntry("dup", "g", "d")).message_id(), first.message_id());
  EXPECT_EQ(Visible("q.fifo"), 1);
  AdvanceMillis(2000);  // 5 min 1 s after the first send
  const pb::SendMessageResult later = Send("q.fifo", FifoEntry("new", "g", "d"));
  EXPECT_NE(later.message_id(), first.message_id());
  EXPECT_GT(later.sequence_number(), first.sequence_number());
  EXPECT_EQ(Visible("q.fifo"), 2);
}

TEST_P(FifoTest, DuplicateSendDoesNotExtendTheWindow) {
  const pb::SendMessageResult first = Send("q.fifo", FifoEntry("one", "g", "d"));
  AdvanceMillis(kFiveMinutes - 1000);
  Send("q.fifo", FifoEntry("dup", "g", "d"));
  AdvanceMillis(2000);
  EXPECT_NE(Send("q.fifo", FifoEntry("new", "g", "d")).message_id(), first.message_id());
}

TEST_P(FifoTest, DeduplicationIsPerQueue) {
  ASSERT_OK(CreateQueue("other.fifo"));
  const pb::SendMessageResult a = Send("q.fifo", FifoEntry("m", "g", "d"));
  const pb::SendMessageResult b = Send("other.fifo", FifoEntry("m", "g", "d"));
  EXPECT_NE(a.message_id(), b.message_id());
  EXPECT_EQ(Visible("other.fifo"), 1);
}

// --- ReceiveRequestAttemptId ------------------------------------------------------

TEST_P(FifoTest, ARetriedAttemptGetsTheSameMessagesAndReceipts) {
  SendTo("g0", "a");
  SendTo("g1", "b");
  SendTo("g2", "c");
  pb::ReceiveMessageRequest req = ReceiveRequest("q.fifo", 2);
  req.set_receive_request_attempt_id("attempt-1");
  req.set_visibility_timeout(30);
  const std::vector<pb::Message> first = Receive(req);
  ASSERT_EQ(Bodies(first), (std::vector<std::string>{"a", "b"}));
  AdvanceSeconds(20);
  // The answer was lost; the retry gets the same two, not "c", and their
  // visibility timeout starts again.
  const std::vector<pb::Message> retry = Receive(req);
  ASSERT_EQ(Bodies(retry), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(retry[0].receipt_handle(), first[0].receipt_handle());
  EXPECT_EQ(retry[1].receipt_handle(), first[1].receipt_handle());
  AdvanceSeconds(20);  // 40 s after the first receive, 20 after the retry
  EXPECT_EQ(InFlight("q.fifo"), 2);
  // Another attempt id is another receive.
  req.set_receive_request_attempt_id("attempt-2");
  EXPECT_EQ(Bodies(Receive(req)), (std::vector<std::string>{"c"}));
}

TEST_P(FifoTest, AnAttemptWhoseMessagesAreSettledOrExpiredReceivesAnew) {
  SendTo("g0", "a");
  SendTo("g1", "b");
  pb::ReceiveMessageRequest req = ReceiveRequest("q.fifo", 1);
  req.set_receive_request_attempt_id("attempt-1");
  const std::vector<pb::Message> first = Receive(req);
  ASSERT_EQ(Bodies(first), (std::vector<std::string>{"a"}));
  ASSERT_OK(DeleteMessage("q.fifo", first[0].receipt_handle()));
  EXPECT_EQ(Bodies(Receive(req)), (std::vector<std::string>{"b"}));
  // Past the 5-minute window the id names nothing.
  AdvanceMillis(kFiveMinutes + 1000);
  req.set_max_number_of_messages(10);
  const std::vector<pb::Message> later = Receive(req);
  ASSERT_EQ(Bodies(later), (std::vector<std::string>{"b"}));
  EXPECT_EQ(later[0].attributes().at("ApproximateReceiveCount"), "2");
}

TEST_P(FifoTest, AttemptIdsFollowTheFifoIdRules) {
  pb::ReceiveMessageRequest req = ReceiveRequest("q.fifo");
  req.set_receive_request_attempt_id(std::string(129, 'x'));
  pb::ReceiveMessageResponse resp;
  EXPECT_CODE(engine().ReceiveMessage(req, &resp), kInvalidParameterValue);
}

}  // namespace
}  // namespace sluice::testing
