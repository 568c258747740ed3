// The limits on what a queue holds: messages expire at the end of the
// retention period, and receives stop at the in-flight limit.
#include <string>
#include <vector>

#include "tests/unit/broker/engine/engine_test_util.h"

namespace sluice::testing {
namespace {

class RetentionTest : public EveryJournalTest {
 protected:
  RetentionTest() { EXPECT_OK(CreateQueue("q")); }
};

INSTANTIATE_TEST_SUITE_P(Journals, RetentionTest, EveryJournal(), JournalParamName);

// --- Retention ----------------------------------------------------------------

TEST_P(RetentionTest, MessagesExpireAtTheEndOfTheRetentionPeriod) {
  ASSERT_OK(CreateQueue("short", {{"MessageRetentionPeriod", "60"}}));
  Send("short", "first");
  AdvanceSeconds(30);
  Send("short", "second");
  AdvanceSeconds(29);
  EXPECT_EQ(Visible("short"), 2);
  AdvanceSeconds(1);
  EXPECT_EQ(Visible("short"), 1);
  EXPECT_EQ(ReceiveBodies("short"), (std::vector<std::string>{"second"}));
}

TEST_P(RetentionTest, InFlightMessageExpiresWithItsRetentionToo) {
  ASSERT_OK(CreateQueue("short", {{"MessageRetentionPeriod", "60"}, {"VisibilityTimeout", "600"}}));
  Send("short", "m");
  std::vector<pb::Message> got = Receive("short");
  ASSERT_EQ(got.size(), 1u);
  AdvanceSeconds(60);
  EXPECT_EQ(InFlight("short"), 0);
  AdvanceSeconds(600);
  EXPECT_TRUE(Receive("short").empty());
}

TEST_P(RetentionTest, DefaultRetentionIsFourDays) {
  Send("q", "m");
  AdvanceSeconds(345'600 - 1);
  EXPECT_EQ(Visible("q"), 1);
  AdvanceSeconds(1);
  EXPECT_EQ(Visible("q"), 0);
}

// --- In-flight limit ----------------------------------------------------------

class InflightLimitTest : public EveryJournalTest {
 protected:
  InflightLimitTest() {
    ResetEngine({.inflight_limit = 3, .seed = 1});
    EXPECT_OK(CreateQueue("q"));
    EXPECT_OK(CreateQueue("q.fifo", {{"ContentBasedDeduplication", "true"}}));
  }
};

INSTANTIATE_TEST_SUITE_P(Journals, InflightLimitTest, EveryJournal(), JournalParamName);

TEST_P(InflightLimitTest, ReceiveStopsAtTheLimit) {
  for (int i = 0; i < 5; ++i) Send("q", "m" + std::to_string(i));
  EXPECT_EQ(Receive("q", 10).size(), 3u);
  EXPECT_EQ(InFlight("q"), 3);
  EXPECT_EQ(Visible("q"), 2);
}

TEST_P(InflightLimitTest, ReceiveAtTheLimitIsOverLimit) {
  for (int i = 0; i < 5; ++i) Send("q", "m" + std::to_string(i));
  std::vector<pb::Message> got = Receive("q", 10);
  ASSERT_EQ(got.size(), 3u);
  pb::ReceiveMessageResponse resp;
  EXPECT_CODE(engine().ReceiveMessage(ReceiveRequest("q"), &resp), kOverLimit);
  EXPECT_EQ(resp.messages_size(), 0);
  EXPECT_EQ(Visible("q"), 2);

  // Deleting one makes room for one.
  ASSERT_OK(DeleteMessage("q", got[0].receipt_handle()));
  EXPECT_EQ(Receive("q", 10).size(), 1u);
}

TEST_P(InflightLimitTest, MessagesBackFromFlightMakeRoom) {
  for (int i = 0; i < 4; ++i) Send("q", "m" + std::to_string(i));
  ASSERT_EQ(Receive("q", 10, 10).size(), 3u);
  AdvanceSeconds(10);
  EXPECT_EQ(Receive("q", 10).size(), 3u);
}

TEST_P(InflightLimitTest, LimitIsPerQueue) {
  ASSERT_OK(CreateQueue("other"));
  for (int i = 0; i < 3; ++i) Send("q", "m");
  for (int i = 0; i < 3; ++i) Send("other", "m");
  ASSERT_EQ(Receive("q", 10).size(), 3u);
  EXPECT_EQ(Receive("other", 10).size(), 3u);
}

TEST_P(InflightLimitTest, FifoQueueHasTheLimitToo) {
  for (int i = 0; i < 5; ++i) {
    pb::SendMessageEntry e = Entry("m" + std::to_string(i));
    e.set_message_group_id("g" + std::to_string(i));
    Send("q.fifo", e);
  }
  EXPECT_EQ(Receive("q.fifo", 10).size(), 3u);
  pb::ReceiveMessageResponse resp;
  EXPECT_CODE(engine().ReceiveMessage(ReceiveRequest("q.fifo"), &resp), kOverLimit);
}

}  // namespace
}  // namespace sluice::testing
