// Queue attributes: the read-only counts and timestamps, the age of the
// oldest message, SetQueueAttributes (retention lowered), and PurgeQueue.
#include <string>
#include <vector>

#include "tests/unit/broker/engine/engine_test_util.h"

namespace sluice::testing {
namespace {

class QueueAttributesTest : public EveryJournalTest {
 protected:
  Status GetSome(const std::string& queue, const std::vector<std::string>& names, Attributes* out) {
    pb::GetQueueAttributesRequest req;
    req.set_queue_name(queue);
    for (const auto& n : names) req.add_attribute_names(n);
    pb::GetQueueAttributesResponse resp;
    Status s = engine().GetQueueAttributes(req, &resp);
    *out = Attributes(resp.attributes().begin(), resp.attributes().end());
    return s;
  }
};

INSTANTIATE_TEST_SUITE_P(Journals, QueueAttributesTest, EveryJournal(), JournalParamName);

// --- GetQueueAttributes -------------------------------------------------

TEST_P(QueueAttributesTest, CountsFollowMessageStates) {
  ASSERT_OK(CreateQueue("q"));
  Send("q", "a");
  Send("q", "b");
  Send("q", "c");
  pb::SendMessageEntry delayed = Entry("d");
  delayed.set_delay_seconds(60);
  Send("q", delayed);
  EXPECT_EQ(Visible("q"), 3);
  EXPECT_EQ(InFlight("q"), 0);
  EXPECT_EQ(Delayed("q"), 1);

  ASSERT_EQ(Receive("q", 2).size(), 2u);
  EXPECT_EQ(Visible("q"), 1);
  EXPECT_EQ(InFlight("q"), 2);
  EXPECT_EQ(Delayed("q"), 1);

  AdvanceSeconds(60);  // the delay and the 30 s visibility timeout both run out
  EXPECT_EQ(Visible("q"), 4);
  EXPECT_EQ(InFlight("q"), 0);
  EXPECT_EQ(Delayed("q"), 0);
}

TEST_P(QueueAttributesTest, CreatedAndLastModifiedTimestampsAreEpochSeconds) {
  const Millis created = Now();
  ASSERT_OK(CreateQueue("q"));
  AdvanceSeconds(100);
  Attributes a = GetAttributes("q");
  EXPECT_EQ(a["CreatedTimestamp"], std::to_string(created / 1000));
  EXPECT_EQ(a["LastModifiedTimestamp"], std::to_string(created / 1000));

  ASSERT_OK(SetAttributes("q", {{"DelaySeconds", "1"}}));
  AdvanceSeconds(5);
  a = GetAttributes("q");
  EXPECT_EQ(a["CreatedTimestamp"], std::to_string(created / 1000));
  EXPECT_EQ(a["LastModifiedTimestamp"], std::to_string(created / 1000 + 100));
}

TEST_P(QueueAttributesTest, FailedSetAttributesDoesNotTouchLastModified) {
  const Millis created = Now();
  ASSERT_OK(CreateQueue("q"));
  AdvanceSeconds(100);
  EXPECT_CODE(SetAttributes("q", {{"DelaySeconds", "1000"}}), kInvalidAttributeValue);
  EXPECT_EQ(GetAttributes("q")["LastModifiedTimestamp"], std::to_string(created / 1000));
}

TEST_P(QueueAttributesTest, AgeOfOldestMessageCountsFromItsSend) {
  ASSERT_OK(CreateQueue("q"));
  EXPECT_EQ(Count("q", "ApproximateAgeOfOldestMessage"), 0);
  Send("q", "old");
  AdvanceSeconds(40);
  Send("q", "new");
  AdvanceSeconds(2);
  EXPECT_EQ(Count("q", "ApproximateAgeOfOldestMessage"), 42);
}

TEST_P(QueueAttributesTest, AgeOfOldestMessageLeavesOutDelayedMessages) {
  ASSERT_OK(CreateQueue("q"));
  pb::SendMessageEntry delayed = Entry("later");
  delayed.set_delay_seconds(600);
  Send("q", delayed);
  AdvanceSeconds(100);
  EXPECT_EQ(Count("q", "ApproximateAgeOfOldestMessage"), 0);
  Send("q", "now");
  AdvanceSeconds(10);
  EXPECT_EQ(Count("q", "ApproximateAgeOfOldestMessage"), 10);
}

TEST_P(QueueAttributesTest, GetQueueAttributesReturnsOnlyTheNamedOnes) {
  ASSERT_OK(CreateQueue("q", {{"DelaySeconds", "4"}}));
  Attributes a;
  ASSERT_OK(GetSome("q", {"DelaySeconds", "ApproximateNumberOfMessages"}, &a));
  EXPECT_EQ(a, (Attributes{{"DelaySeconds", "4"}, {"ApproximateNumberOfMessages", "0"}}));
}

TEST_P(QueueAttributesTest, GetQueueAttributesAllReturnsEverything) {
  ASSERT_OK(CreateQueue("q"));
  Attributes a;
  ASSERT_OK(GetSome("q", {"All"}, &a));
  EXPECT_EQ(a, GetAttributes("q"));
  for (const char* name : {"VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds",
                           "ReceiveMessageWaitTimeSeconds", "MaximumMessageSize", "QueueArn",
                           "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                           "ApproximateNumberOfMessagesDelayed", "CreatedTimestamp",
                           "LastModifiedTimestamp", "ApproximateAgeOfOldestMessage"}) {
    EXPECT_TRUE(a.contains(name)) << name;
  }
}

TEST_P(QueueAttributesTest, GetQueueAttributesUnknownNameIsInvalidAttributeName) {
  ASSERT_OK(CreateQueue("q"));
  Attributes a;
  EXPECT_CODE(GetSome("q", {"DelaySeconds", "NoSuchThing"}, &a), kInvalidAttributeName);
}

TEST_P(QueueAttributesTest, GetQueueAttributesFifoOnlyNameOnStandardQueueIsAbsentNotAnError) {
  ASSERT_OK(CreateQueue("q"));
  Attributes a;
  ASSERT_OK(GetSome("q", {"FifoQueue", "RedrivePolicy"}, &a));
  EXPECT_TRUE(a.empty());
}

// --- SetQueueAttributes -----------------------------------------------------

TEST_P(QueueAttributesTest, SetQueueAttributesChangesThem) {
  ASSERT_OK(CreateQueue("q"));
  ASSERT_OK(SetAttributes("q", {{"VisibilityTimeout", "5"}, {"MaximumMessageSize", "4096"}}));
  Attributes a = GetAttributes("q");
  EXPECT_EQ(a["VisibilityTimeout"], "5");
  EXPECT_EQ(a["MaximumMessageSize"], "4096");
  EXPECT_EQ(a["DelaySeconds"], "0");
}

TEST_P(QueueAttributesTest, NewVisibilityTimeoutAppliesToLaterReceives) {
  ASSERT_OK(CreateQueue("q"));
  Send("q", "m");
  ASSERT_OK(SetAttributes("q", {{"VisibilityTimeout", "5"}}));
  ASSERT_EQ(Receive("q").size(), 1u);
  AdvanceSeconds(4);
  EXPECT_TRUE(Receive("q").empty());
  AdvanceSeconds(1);
  EXPECT_EQ(Receive("q").size(), 1u);
}

TEST_P(QueueAttributesTest, LoweringRetentionExpiresOlderMessagesAtOnce) {
  ASSERT_OK(CreateQueue("q"));
  Send("q", "old");
  AdvanceSeconds(90);
  Send("q", "young");
  ASSERT_OK(SetAttributes("q", {{"MessageRetentionPeriod", "60"}}));
  EXPECT_EQ(Visible("q"), 1);
  EXPECT_EQ(ReceiveBodies("q"), (std::vector<std::string>{"young"}));
  // The young one goes when it reaches 60 s.
  AdvanceSeconds(60);
  EXPECT_EQ(Count("q", "ApproximateNumberOfMessagesNotVisible"), 0);
  EXPECT_EQ(Visible("q"), 0);
}

TEST_P(QueueAttributesTest, LoweringRetentionExpiresInFlightAndDelayedMessagesToo) {
  ASSERT_OK(CreateQueue("q", {{"VisibilityTimeout", "43200"}}));
  Send("q", "in flight");
  ASSERT_EQ(Receive("q").size(), 1u);
  pb::SendMessageEntry delayed = Entry("delayed");
  delayed.set_delay_seconds(900);
  Send("q", delayed);
  AdvanceSeconds(120);
  ASSERT_OK(SetAttributes("q", {{"MessageRetentionPeriod", "60"}}));
  EXPECT_EQ(InFlight("q"), 0);
  EXPECT_EQ(Delayed("q"), 0);
}

// --- PurgeQueue -----------------------------------------------------------

TEST_P(QueueAttributesTest, PurgeDeletesVisibleInFlightAndDelayedMessages) {
  ASSERT_OK(CreateQueue("q"));
  Send("q", "visible");
  Send("q", "in flight");
  pb::SendMessageEntry delayed = Entry("delayed");
  delayed.set_delay_seconds(10);
  Send("q", delayed);
  std::vector<pb::Message> got = Receive("q", 1);
  ASSERT_EQ(got.size(), 1u);

  ASSERT_OK(Purge("q"));
  EXPECT_EQ(Visible("q"), 0);
  EXPECT_EQ(InFlight("q"), 0);
  EXPECT_EQ(Delayed("q"), 0);
  AdvanceSeconds(60);  // nothing comes back from flight or delay
  EXPECT_TRUE(Receive("q").empty());
  // The purged message's receipt handle no longer changes anything.
  EXPECT_CODE(ChangeVisibility("q", got[0].receipt_handle(), 10), kMessageNotInflight);
}

TEST_P(QueueAttributesTest, QueueTakesNewMessagesAfterPurge) {
  ASSERT_OK(CreateQueue("q"));
  Send("q", "before");
  ASSERT_OK(Purge("q"));
  Send("q", "after");
  EXPECT_EQ(ReceiveBodies("q"), (std::vector<std::string>{"after"}));
}

TEST_P(QueueAttributesTest, PurgeReleasesFifoGroups) {
  ASSERT_OK(CreateQueue("q.fifo"));
  Send("q.fifo", FifoEntry("a1", "a"));
  ASSERT_EQ(Receive("q.fifo").size(), 1u);
  ASSERT_OK(Purge("q.fifo"));
  Send("q.fifo", FifoEntry("a2", "a"));
  EXPECT_EQ(ReceiveBodies("q.fifo"), (std::vector<std::string>{"a2"}));
}

TEST_P(QueueAttributesTest, PurgedMessagesAreFreedASliceAtATime) {
  ASSERT_OK(CreateQueue("q"));
  ASSERT_OK(CreateQueue("g.fifo"));
  for (int i = 0; i < 300; ++i) Send("q", "m" + std::to_string(i));
  // One FIFO group of many messages: freed in slices too.
  for (int i = 0; i < 300; ++i) Send("g.fifo", FifoEntry("f" + std::to_string(i), "one-group"));
  ASSERT_EQ(Receive("q", 10).size(), 10u);
  ASSERT_OK(Purge("q"));
  pb::DeleteQueueRequest del;
  del.set_queue_name("g.fifo");
  pb::DeleteQueueResponse deleted;
  ASSERT_OK(engine().DeleteQueue(del, &deleted));
  // Gone at once, freed later.
  EXPECT_EQ(Visible("q") + InFlight("q"), 0);
  EXPECT_TRUE(engine().HasDroppedMessages());
  Send("q", "after");
  int slices = 0;
  while (engine().HasDroppedMessages() && slices < 1000) {
    engine().FreeDroppedMessages(50);
    ++slices;
  }
  EXPECT_FALSE(engine().HasDroppedMessages());
  // 300 messages with 3 index entries each, and 300 of the group's and its
  // own: more than 30 slices of 50.
  EXPECT_GT(slices, 30);
  EXPECT_EQ(ReceiveBodies("q"), (std::vector<std::string>{"after"}));
}

}  // namespace
}  // namespace sluice::testing
