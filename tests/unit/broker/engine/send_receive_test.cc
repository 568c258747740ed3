// Sending and receiving on standard queues: results, system and message
// attributes, attribute filters, delays and receive parameters.
#include <set>
#include <string>
#include <vector>

#include "tests/unit/broker/engine/engine_test_util.h"

namespace sluice::testing {
namespace {

class SendReceiveTest : public EveryJournalTest {
 protected:
  SendReceiveTest() { EXPECT_OK(CreateQueue("q")); }
};

INSTANTIATE_TEST_SUITE_P(Journals, SendReceiveTest, EveryJournal(), JournalParamName);

// --- SendMessage ------------------------------------------------------------

TEST_P(SendReceiveTest, SendAnswersMessageIdAndBodyMd5) {
  pb::SendMessageResult r = Send("q", "hello");
  EXPECT_EQ(r.md5_of_message_body(), "5d41402abc4b2a76b9719d911017c592");
  EXPECT_EQ(r.md5_of_message_attributes(), "");
  EXPECT_EQ(r.sequence_number(), "");  // standard queues have none
  EXPECT_EQ(r.message_id().size(), 36u);
  EXPECT_EQ(r.message_id()[14], '4');  // a version-4 UUID
}

TEST_P(SendReceiveTest, MessageIdsAreDistinct) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.insert(Send("q", "m").message_id());
  EXPECT_EQ(ids.size(), 100u);
}

TEST_P(SendReceiveTest, SendAnswersSqsDigestOfMessageAttributes) {
  pb::SendMessageEntry e = Entry("body");
  (*e.mutable_message_attributes())["color"] = StringAttr("red");
  EXPECT_EQ(Send("q", e).md5_of_message_attributes(), "20ca9041878c8c65d5a4bf6eaf446c21");

  (*e.mutable_message_attributes())["blob"] = BinaryAttr(std::string("\x00\x01", 2));
  EXPECT_EQ(Send("q", e).md5_of_message_attributes(), "22685e6ee3d99cea305496b5f8c182bf");
}

TEST_P(SendReceiveTest, ReceiveReturnsBodyIdDigestAndAttributes) {
  pb::SendMessageEntry e = Entry("hello");
  (*e.mutable_message_attributes())["color"] = StringAttr("red");
  (*e.mutable_message_attributes())["blob"] = BinaryAttr(std::string("\x00\x01", 2));
  const pb::SendMessageResult sent = Send("q", e);

  std::vector<pb::Message> got = Receive("q");
  ASSERT_EQ(got.size(), 1u);
  const pb::Message& m = got[0];
  EXPECT_EQ(m.message_id(), sent.message_id());
  EXPECT_EQ(m.body(), "hello");
  EXPECT_EQ(m.md5_of_body(), sent.md5_of_message_body());
  EXPECT_FALSE(m.receipt_handle().empty());
  ASSERT_EQ(m.message_attributes().size(), 2u);
  EXPECT_EQ(m.message_attributes().at("color").string_value(), "red");
  EXPECT_EQ(m.message_attributes().at("color").data_type(), "String");
  EXPECT_EQ(m.message_attributes().at("blob").binary_value(), std::string("\x00\x01", 2));
  EXPECT_EQ(m.md5_of_message_attributes(), "22685e6ee3d99cea305496b5f8c182bf");
}

TEST_P(SendReceiveTest, CustomAttributeTypeLabelsAreKept) {
  pb::SendMessageEntry e = Entry("m");
  (*e.mutable_message_attributes())["price"] = StringAttr("12.5", "Number.euro");
  Send("q", e);
  std::vector<pb::Message> got = Receive("q");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].message_attributes().at("price").data_type(), "Number.euro");
  EXPECT_EQ(got[0].message_attributes().at("price").string_value(), "12.5");
}

TEST_P(SendReceiveTest, BodyMayHoldAnyAllowedUnicode) {
  const std::string body = "tab\tnl\ncr\r \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xee\x80\x80";
  Send("q", body);
  EXPECT_EQ(ReceiveBodies("q"), (std::vector<std::string>{body}));
}

// --- ReceiveMessage ---------------------------------------------------------

TEST_P(SendReceiveTest, ReceiveFromEmptyQueueAnswersNoMessages) {
  EXPECT_TRUE(Receive("q").empty());
}

TEST_P(SendReceiveTest, ReceiveReturnsOneMessageByDefault) {
  for (int i = 0; i < 3; ++i) Send("q", "m" + std::to_string(i));
  pb::ReceiveMessageRequest req = ReceiveRequest("q");
  req.clear_max_number_of_messages();
  EXPECT_EQ(Receive(req).size(), 1u);
}

TEST_P(SendReceiveTest, ReceiveReturnsAtMostMaxNumberOfMessages) {
  for (int i = 0; i < 15; ++i) Send("q", "m" + std::to_string(i));
  EXPECT_EQ(Receive("q", 4).size(), 4u);
  EXPECT_EQ(Receive("q", 10).size(), 10u);
  EXPECT_EQ(Receive("q", 10).size(), 1u);
  EXPECT_EQ(Visible("q"), 0);
  EXPECT_EQ(InFlight("q"), 15);
}

TEST_P(SendReceiveTest, ReceivedMessageIsNotReceivedAgainWhileInFlight) {
  Send("q", "only");
  ASSERT_EQ(Receive("q").size(), 1u);
  AdvanceSeconds(29);
  EXPECT_TRUE(Receive("q").empty());
}

TEST_P(SendReceiveTest, ReceiveVisibilityTimeoutOverridesTheQueues) {
  Send("q", "a");
  Send("q", "b");
  ASSERT_EQ(Receive("q", 1, /*visibility_timeout=*/5).size(), 1u);
  ASSERT_EQ(Receive("q", 1, /*visibility_timeout=*/100).size(), 1u);
  AdvanceSeconds(4);
  EXPECT_TRUE(Receive("q").empty());
  AdvanceSeconds(1);
  EXPECT_EQ(Drain("q"), (std::vector<std::string>{"a"}));
  AdvanceSeconds(94);
  EXPECT_TRUE(Receive("q").empty());
  AdvanceSeconds(1);
  EXPECT_EQ(Drain("q"), (std::vector<std::string>{"b"}));
}

TEST_P(SendReceiveTest, ZeroVisibilityTimeoutLeavesMessageReceivableAtOnce) {
  Send("q", "m");
  ASSERT_EQ(Receive("q", 1, 0).size(), 1u);
  EXPECT_EQ(ReceiveBodies("q"), (std::vector<std::string>{"m"}));
}

TEST_P(SendReceiveTest, EachReceiveGivesANewReceiptHandle) {
  Send("q", "m");
  std::set<std::string> handles;
  for (int i = 0; i < 5; ++i) {
    std::vector<pb::Message> got = Receive("q", 1, 0);
    ASSERT_EQ(got.size(), 1u);
    handles.insert(got[0].receipt_handle());
  }
  EXPECT_EQ(handles.size(), 5u);
}

TEST_P(SendReceiveTest, StandardQueueDeliversInSendOrderWhenIdle) {
  for (int i = 0; i < 5; ++i) Send("q", "m" + std::to_string(i));
  EXPECT_EQ(ReceiveBodies("q"), (std::vector<std::string>{"m0", "m1", "m2", "m3", "m4"}));
}

TEST_P(SendReceiveTest, SystemAttributesOnFirstAndLaterReceives) {
  const Millis sent_at = Now();
  Send("q", "m");
  AdvanceSeconds(3);
  const Millis first_receive = Now();
  std::vector<pb::Message> got = Receive("q", 1, 10);
  ASSERT_EQ(got.size(), 1u);
  auto attrs = got[0].attributes();
  EXPECT_EQ(attrs["ApproximateReceiveCount"], "1");
  EXPECT_EQ(attrs["SentTimestamp"], std::to_string(sent_at));
  EXPECT_EQ(attrs["ApproximateFirstReceiveTimestamp"], std::to_string(first_receive));
  EXPECT_FALSE(attrs.contains("MessageGroupId"));
  EXPECT_FALSE(attrs.contains("SequenceNumber"));
  EXPECT_FALSE(attrs.contains("DeadLetterQueueSourceArn"));

  AdvanceSeconds(10);
  got = Receive("q");
  ASSERT_EQ(got.size(), 1u);
  attrs = got[0].attributes();
  EXPECT_EQ(attrs["ApproximateReceiveCount"], "2");
  EXPECT_EQ(attrs["SentTimestamp"], std::to_string(sent_at));
  EXPECT_EQ(attrs["ApproximateFirstReceiveTimestamp"], std::to_string(first_receive));
}

TEST_P(SendReceiveTest, SystemAttributesOnlyWhenAsked) {
  Send("q", "m");
  pb::ReceiveMessageRequest req = ReceiveRequest("q");
  req.clear_attribute_names();
  std::vector<pb::Message> got = Receive(req);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].attributes().empty());
}

TEST_P(SendReceiveTest, SystemAttributesFilteredByName) {
  Send("q", "m");
  pb::ReceiveMessageRequest req = ReceiveRequest("q");
  req.clear_attribute_names();
  req.add_attribute_names("SentTimestamp");
  std::vector<pb::Message> got = Receive(req);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].attributes().size(), 1u);
  EXPECT_TRUE(got[0].attributes().contains("SentTimestamp"));
}

TEST_P(SendReceiveTest, UnknownSystemAttributeNameIsInvalidAttributeName) {
  Send("q", "m");
  pb::ReceiveMessageRequest req = ReceiveRequest("q");
  req.add_attribute_names("ApproximateReceiveCounts");
  pb::ReceiveMessageResponse resp;
  EXPECT_CODE(engine().ReceiveMessage(req, &resp), kInvalidAttributeName);
  EXPECT_EQ(Visible("q"), 1);  // the failed receive took nothing
}

class MessageAttributeFilterTest : public SendReceiveTest {
 protected:
  MessageAttributeFilterTest() {
    pb::SendMessageEntry e = Entry("m");
    auto& attrs = *e.mutable_message_attributes();
    attrs["color"] = StringAttr("red");
    attrs["size"] = StringAttr("3", "Number");
    attrs["trace.id"] = StringAttr("t1");
    attrs["trace.span"] = StringAttr("s1");
    attrs["tracer"] = StringAttr("x");
    Send("q", e);
  }

  // The names of the message attributes a receive with `filters` returns.
  std::set<std::string> Names(const std::vector<std::string>& filters) {
    pb::ReceiveMessageRequest req = ReceiveRequest("q");
    req.set_visibility_timeout(0);
    req.clear_message_attribute_names();
    for (const auto& f : filters) req.add_message_attribute_names(f);
    std::vector<pb::Message> got = Receive(req);
    EXPECT_EQ(got.size(), 1u);
    std::set<std::string> names;
    if (got.empty()) return names;
    for (const auto& [name, value] : got[0].message_attributes()) names.insert(name);
    EXPECT_EQ(got[0].md5_of_message_attributes().empty(), names.empty());
    return names;
  }
};

INSTANTIATE_TEST_SUITE_P(Journals, MessageAttributeFilterTest, EveryJournal(), JournalParamName);

TEST_P(MessageAttributeFilterTest, NoFilterReturnsNoMessageAttributes) {
  EXPECT_EQ(Names({}), (std::set<std::string>{}));
}

TEST_P(MessageAttributeFilterTest, AllAndDotStarReturnEveryAttribute) {
  const std::set<std::string> every = {"color", "size", "trace.id", "trace.span", "tracer"};
  EXPECT_EQ(Names({"All"}), every);
  EXPECT_EQ(Names({".*"}), every);
}

TEST_P(MessageAttributeFilterTest, ExactNamesReturnThoseOnly) {
  EXPECT_EQ(Names({"color", "size", "missing"}), (std::set<std::string>{"color", "size"}));
}

TEST_P(MessageAttributeFilterTest, PrefixFilterMatchesNamesUnderThePrefix) {
  EXPECT_EQ(Names({"trace.*"}), (std::set<std::string>{"trace.id", "trace.span"}));
}

TEST_P(MessageAttributeFilterTest, DigestCoversOnlyTheReturnedAttributes) {
  pb::ReceiveMessageRequest req = ReceiveRequest("q");
  req.clear_message_attribute_names();
  req.add_message_attribute_names("color");
  std::vector<pb::Message> got = Receive(req);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].md5_of_message_attributes(), "20ca9041878c8c65d5a4bf6eaf446c21");
}

// --- Delays -------------------------------------------------------------------

TEST_P(SendReceiveTest, PerMessageDelayHidesMessageUntilItRunsOut) {
  pb::SendMessageEntry e = Entry("later");
  e.set_delay_seconds(10);
  Send("q", e);
  EXPECT_EQ(Delayed("q"), 1);
  AdvanceSeconds(9);
  EXPECT_TRUE(Receive("q").empty());
  AdvanceSeconds(1);
  EXPECT_EQ(ReceiveBodies("q"), (std::vector<std::string>{"later"}));
}

TEST_P(SendReceiveTest, QueueDelayAppliesWhenMessageSetsNone) {
  ASSERT_OK(CreateQueue("slow", {{"DelaySeconds", "20"}}));
  Send("slow", "m");
  AdvanceSeconds(19);
  EXPECT_TRUE(Receive("slow").empty());
  EXPECT_EQ(Delayed("slow"), 1);
  AdvanceSeconds(1);
  EXPECT_EQ(Receive("slow").size(), 1u);
}

TEST_P(SendReceiveTest, PerMessageDelayOverridesTheQueuesEvenWithZero) {
  ASSERT_OK(CreateQueue("slow", {{"DelaySeconds", "20"}}));
  pb::SendMessageEntry now = Entry("now");
  now.set_delay_seconds(0);
  Send("slow", now);
  pb::SendMessageEntry soon = Entry("soon");
  soon.set_delay_seconds(5);
  Send("slow", soon);
  EXPECT_EQ(ReceiveBodies("slow"), (std::vector<std::string>{"now"}));
  AdvanceSeconds(5);
  EXPECT_EQ(ReceiveBodies("slow"), (std::vector<std::string>{"soon"}));
}

TEST_P(SendReceiveTest, PerMessageDelayOutOfRangeIsRejected) {
  for (int delay : {-1, 901}) {
    pb::SendMessageEntry e = Entry("m");
    e.set_delay_seconds(delay);
    EXPECT_CODE(SendEntry("q", e), kInvalidParameterValue) << delay;
  }
  pb::SendMessageEntry max = Entry("m");
  max.set_delay_seconds(900);
  EXPECT_OK(SendEntry("q", max));
  EXPECT_EQ(Visible("q") + Delayed("q"), 1);
}

// --- Receive wait time -----------------------------------------------------------

TEST_P(SendReceiveTest, ReceiveWaitIsTheRequestsOrTheQueues) {
  ASSERT_OK(CreateQueue("poll", {{"ReceiveMessageWaitTimeSeconds", "15"}}));
  pb::ReceiveMessageRequest req = ReceiveRequest("poll");
  auto wait = engine().ReceiveWaitMs(req);
  ASSERT_OK(wait.status());
  EXPECT_EQ(*wait, 15'000);
  req.set_wait_time_seconds(0);
  wait = engine().ReceiveWaitMs(req);
  ASSERT_OK(wait.status());
  EXPECT_EQ(*wait, 0);
  req.set_wait_time_seconds(20);
  wait = engine().ReceiveWaitMs(req);
  ASSERT_OK(wait.status());
  EXPECT_EQ(*wait, 20'000);
}

TEST_P(SendReceiveTest, NextWakeupIsTheEarliestTimer) {
  EXPECT_EQ(engine().NextWakeup("missing"), std::nullopt);
  EXPECT_EQ(engine().NextWakeup("q"), std::nullopt);
  pb::SendMessageEntry e = Entry("m");
  e.set_delay_seconds(7);
  const Millis sent = Now();
  Send("q", e);
  EXPECT_EQ(engine().NextWakeup("q"), sent + 7'000);
}

}  // namespace
}  // namespace sluice::testing
