// Visibility timeouts: expiry and re-delivery, ChangeMessageVisibility
// (extension, release, the 12-hour cap) and stale receipt handles.
#include <string>
#include <vector>

#include "tests/unit/broker/engine/engine_test_util.h"

namespace sluice::testing {
namespace {

constexpr int kTwelveHours = 43'200;

class VisibilityTest : public EveryJournalTest {
 protected:
  VisibilityTest() {
    EXPECT_OK(CreateQueue("q"));  // VisibilityTimeout 30 s
  }

  // Sends one message and receives it; its receipt handle.
  std::string SendAndReceive(const std::string& body = "m") {
    Send("q", body);
    std::vector<pb::Message> got = Receive("q", 1);
    EXPECT_EQ(got.size(), 1u);
    return got.empty() ? "" : got[0].receipt_handle();
  }
};

INSTANTIATE_TEST_SUITE_P(Journals, VisibilityTest, EveryJournal(), JournalParamName);

TEST_P(VisibilityTest, MessageComesBackWhenItsTimeoutRunsOut) {
  SendAndReceive();
  AdvanceMillis(29'999);
  EXPECT_TRUE(Receive("q").empty());
  EXPECT_EQ(InFlight("q"), 1);
  AdvanceMillis(1);
  EXPECT_EQ(InFlight("q"), 0);
  EXPECT_EQ(Visible("q"), 1);
  std::vector<pb::Message> again = Receive("q");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].body(), "m");
  EXPECT_EQ(again[0].attributes().at("ApproximateReceiveCount"), "2");
}

TEST_P(VisibilityTest, RedeliveredMessageKeepsItsIdAndGetsANewHandle) {
  const std::string id = Send("q", "m").message_id();
  std::vector<pb::Message> first = Receive("q");
  ASSERT_EQ(first.size(), 1u);
  AdvanceSeconds(30);
  std::vector<pb::Message> second = Receive("q");
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(first[0].message_id(), id);
  EXPECT_EQ(second[0].message_id(), id);
  EXPECT_NE(first[0].receipt_handle(), second[0].receipt_handle());
}

TEST_P(VisibilityTest, ChangeVisibilityExtendsTheTimeoutFromNow) {
  const std::string handle = SendAndReceive();
  AdvanceSeconds(20);
  ASSERT_OK(ChangeVisibility("q", handle, 60));
  AdvanceSeconds(59);  // 79 s after the receive, well past the original 30 s
  EXPECT_TRUE(Receive("q").empty());
  AdvanceSeconds(1);
  EXPECT_EQ(Receive("q").size(), 1u);
}

TEST_P(VisibilityTest, ChangeVisibilityCanShortenTheTimeout) {
  const std::string handle = SendAndReceive();
  ASSERT_OK(ChangeVisibility("q", handle, 5));
  AdvanceSeconds(5);
  EXPECT_EQ(Receive("q").size(), 1u);
}

TEST_P(VisibilityTest, ChangeVisibilityToZeroReleasesTheMessageAtOnce) {
  const std::string handle = SendAndReceive();
  ASSERT_OK(ChangeVisibility("q", handle, 0));
  EXPECT_EQ(Visible("q"), 1);
  EXPECT_EQ(InFlight("q"), 0);
  std::vector<pb::Message> again = Receive("q");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].attributes().at("ApproximateReceiveCount"), "2");
}

TEST_P(VisibilityTest, ChangeIsNotRememberedAcrossReceives) {
  const std::string handle = SendAndReceive();
  ASSERT_OK(ChangeVisibility("q", handle, 0));
  ASSERT_EQ(Receive("q").size(), 1u);  // back to the queue's 30 s
  AdvanceSeconds(29);
  EXPECT_TRUE(Receive("q").empty());
  AdvanceSeconds(1);
  EXPECT_EQ(Receive("q").size(), 1u);
}

TEST_P(VisibilityTest, DeleteAfterChangeVisibilityUsesTheSameHandle) {
  const std::string handle = SendAndReceive();
  ASSERT_OK(ChangeVisibility("q", handle, 100));
  ASSERT_OK(DeleteMessage("q", handle));
  AdvanceSeconds(200);
  EXPECT_TRUE(Receive("q").empty());
}

TEST_P(VisibilityTest, TimeoutUpToTwelveHoursAfterTheReceiveIsAllowed) {
  const std::string handle = SendAndReceive();
  EXPECT_OK(ChangeVisibility("q", handle, kTwelveHours));
  AdvanceSeconds(100);
  EXPECT_OK(ChangeVisibility("q", handle, kTwelveHours - 100));
  AdvanceSeconds(kTwelveHours - 101);
  EXPECT_TRUE(Receive("q").empty());
  AdvanceSeconds(1);
  EXPECT_EQ(Receive("q").size(), 1u);
}

TEST_P(VisibilityTest, TimeoutPastTwelveHoursAfterTheReceiveIsRejected) {
  Send("q", "m");
  std::vector<pb::Message> got = Receive("q", 1, /*visibility_timeout=*/3600);
  ASSERT_EQ(got.size(), 1u);
  AdvanceSeconds(100);
  EXPECT_CODE(ChangeVisibility("q", got[0].receipt_handle(), kTwelveHours - 99),
              kInvalidParameterValue);
  // The failed change changed nothing: the message is back after its 3600 s.
  AdvanceSeconds(3499);
  EXPECT_TRUE(Receive("q").empty());
  AdvanceSeconds(1);
  EXPECT_EQ(Receive("q").size(), 1u);
}

TEST_P(VisibilityTest, FailedChangeLeavesTheOriginalTimeout) {
  const std::string handle = SendAndReceive();
  EXPECT_CODE(ChangeVisibility("q", handle, kTwelveHours + 1), kInvalidParameterValue);
  EXPECT_CODE(ChangeVisibility("q", handle, -1), kInvalidParameterValue);
  AdvanceSeconds(30);
  EXPECT_EQ(Receive("q").size(), 1u);
}

TEST_P(VisibilityTest, TwelveHourCapCountsFromTheLatestReceive) {
  SendAndReceive();
  AdvanceSeconds(kTwelveHours);  // well past the 30 s timeout
  std::vector<pb::Message> again = Receive("q");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_OK(ChangeVisibility("q", again[0].receipt_handle(), kTwelveHours));
}

TEST_P(VisibilityTest, ChangeVisibilityOfAMessageBackInTheQueueIsMessageNotInflight) {
  const std::string handle = SendAndReceive();
  AdvanceSeconds(30);
  EXPECT_CODE(ChangeVisibility("q", handle, 60), kMessageNotInflight);
  EXPECT_EQ(Visible("q"), 1);
}

TEST_P(VisibilityTest, ChangeVisibilityOfADeletedMessageIsMessageNotInflight) {
  const std::string handle = SendAndReceive();
  ASSERT_OK(DeleteMessage("q", handle));
  EXPECT_CODE(ChangeVisibility("q", handle, 60), kMessageNotInflight);
}

TEST_P(VisibilityTest, ChangeVisibilityWithStaleHandleIsStaleAndChangesNothing) {
  Send("q", "m");
  std::vector<pb::Message> first = Receive("q");
  ASSERT_EQ(first.size(), 1u);
  AdvanceSeconds(30);
  std::vector<pb::Message> second = Receive("q", 1, 10);
  ASSERT_EQ(second.size(), 1u);

  EXPECT_CODE(ChangeVisibility("q", first[0].receipt_handle(), 0), kStaleReceiptHandle);
  EXPECT_CODE(ChangeVisibility("q", first[0].receipt_handle(), 600), kStaleReceiptHandle);
  EXPECT_EQ(InFlight("q"), 1);
  // The second receive's 10 s stand.
  AdvanceSeconds(9);
  EXPECT_TRUE(Receive("q").empty());
  AdvanceSeconds(1);
  EXPECT_EQ(Receive("q").size(), 1u);
}

TEST_P(VisibilityTest, ChangeVisibilityWithInvalidHandleIsReceiptHandleIsInvalid) {
  SendAndReceive();
  EXPECT_CODE(ChangeVisibility("q", "nonsense", 0), kReceiptHandleIsInvalid);
  EXPECT_EQ(InFlight("q"), 1);
}

TEST_P(VisibilityTest, StaleHandleCannotDeleteAfterTheMessageWasReceivedAgain) {
  Send("q", "m");
  std::vector<pb::Message> first = Receive("q", 1, 1);
  ASSERT_EQ(first.size(), 1u);
  AdvanceSeconds(1);
  std::vector<pb::Message> second = Receive("q");
  ASSERT_EQ(second.size(), 1u);
  EXPECT_CODE(DeleteMessage("q", first[0].receipt_handle()), kStaleReceiptHandle);
  // The other consumer keeps its message: it comes back after its timeout.
  AdvanceSeconds(30);
  EXPECT_EQ(Receive("q").size(), 1u);
}

}  // namespace
}  // namespace sluice::testing
