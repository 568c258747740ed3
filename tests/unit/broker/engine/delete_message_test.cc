// DeleteMessage and receipt handles: deleting for good, repeated deletes,
// stale handles that delete nothing, and handles that are not valid here.
#include <string>
#include <vector>

#include "tests/unit/broker/engine/engine_test_util.h"

namespace sluice::testing {
namespace {

class DeleteMessageTest : public EveryJournalTest {
 protected:
  DeleteMessageTest() { EXPECT_OK(CreateQueue("q")); }
};

INSTANTIATE_TEST_SUITE_P(Journals, DeleteMessageTest, EveryJournal(), JournalParamName);

TEST_P(DeleteMessageTest, DeleteRemovesTheMessageForGood) {
  Send("q", "m");
  std::vector<pb::Message> got = Receive("q");
  ASSERT_EQ(got.size(), 1u);
  ASSERT_OK(DeleteMessage("q", got[0].receipt_handle()));
  EXPECT_EQ(InFlight("q"), 0);
  AdvanceSeconds(3600);
  EXPECT_TRUE(Receive("q").empty());
}

TEST_P(DeleteMessageTest, DeleteOfAnAlreadyDeletedMessageSucceeds) {
  Send("q", "m");
  std::vector<pb::Message> got = Receive("q");
  ASSERT_EQ(got.size(), 1u);
  ASSERT_OK(DeleteMessage("q", got[0].receipt_handle()));
  EXPECT_OK(DeleteMessage("q", got[0].receipt_handle()));
}

TEST_P(DeleteMessageTest, DeleteAfterVisibilityRanOutButBeforeAnotherReceiveSucceeds) {
  Send("q", "m");
  std::vector<pb::Message> got = Receive("q", 1, 5);
  ASSERT_EQ(got.size(), 1u);
  AdvanceSeconds(10);
  EXPECT_EQ(Visible("q"), 1);
  ASSERT_OK(DeleteMessage("q", got[0].receipt_handle()));
  EXPECT_EQ(Visible("q"), 0);
}

TEST_P(DeleteMessageTest, DeleteWithStaleHandleIsStaleReceiptHandleAndDeletesNothing) {
  Send("q", "m");
  std::vector<pb::Message> first = Receive("q", 1, 5);
  ASSERT_EQ(first.size(), 1u);
  AdvanceSeconds(5);
  std::vector<pb::Message> second = Receive("q", 1, 30);
  ASSERT_EQ(second.size(), 1u);

  EXPECT_CODE(DeleteMessage("q", first[0].receipt_handle()), kStaleReceiptHandle);
  EXPECT_EQ(InFlight("q"), 1);
  // The latest handle still works.
  EXPECT_OK(DeleteMessage("q", second[0].receipt_handle()));
  EXPECT_EQ(InFlight("q"), 0);
}

TEST_P(DeleteMessageTest, MalformedReceiptHandleIsInvalid) {
  Send("q", "m");
  ASSERT_EQ(Receive("q").size(), 1u);
  for (const char* handle :
       {"", "garbage", "1.1.1", "1.1.1.0", "1.1.1.0.0", "x.y.z.w", "-1.1.1.0000000000000000"}) {
    EXPECT_CODE(DeleteMessage("q", handle), kReceiptHandleIsInvalid) << handle;
  }
  EXPECT_EQ(InFlight("q"), 1);
}

TEST_P(DeleteMessageTest, TamperedReceiptHandleIsInvalid) {
  Send("q", "a");
  Send("q", "b");
  std::vector<pb::Message> got = Receive("q", 2);
  ASSERT_EQ(got.size(), 2u);
  // Point a's handle at the other message by changing one field.
  std::string handle = got[0].receipt_handle();
  const size_t first_dot = handle.find('.');
  const size_t second_dot = handle.find('.', first_dot + 1);
  const std::string seq = handle.substr(first_dot + 1, second_dot - first_dot - 1);
  handle.replace(first_dot + 1, seq.size(), seq == "1" ? "2" : "1");
  EXPECT_CODE(DeleteMessage("q", handle), kReceiptHandleIsInvalid);
  EXPECT_EQ(InFlight("q"), 2);
}

TEST_P(DeleteMessageTest, ReceiptHandleOfAnotherQueueIsInvalid) {
  ASSERT_OK(CreateQueue("other"));
  Send("other", "m");
  std::vector<pb::Message> got = Receive("other");
  ASSERT_EQ(got.size(), 1u);
  Send("q", "m");
  ASSERT_EQ(Receive("q").size(), 1u);
  EXPECT_CODE(DeleteMessage("q", got[0].receipt_handle()), kReceiptHandleIsInvalid);
  EXPECT_EQ(InFlight("q"), 1);
  EXPECT_EQ(InFlight("other"), 1);
}

TEST_P(DeleteMessageTest, ReceiptHandleOfADeletedAndRecreatedQueueIsInvalid) {
  Send("q", "m");
  std::vector<pb::Message> got = Receive("q");
  ASSERT_EQ(got.size(), 1u);
  ASSERT_OK(DeleteQueue("q"));
  ASSERT_OK(CreateQueue("q"));
  Send("q", "m");
  ASSERT_EQ(Receive("q").size(), 1u);
  EXPECT_CODE(DeleteMessage("q", got[0].receipt_handle()), kReceiptHandleIsInvalid);
  EXPECT_CODE(ChangeVisibility("q", got[0].receipt_handle(), 0), kReceiptHandleIsInvalid);
  EXPECT_EQ(InFlight("q"), 1);
}

TEST_P(DeleteMessageTest, ReceiptHandleOfAnotherEngineSeedIsInvalid) {
  Send("q", "m");
  std::vector<pb::Message> got = Receive("q");
  ASSERT_EQ(got.size(), 1u);
  ResetEngine({.inflight_limit = kInflightLimit, .seed = 7});
  ASSERT_OK(CreateQueue("q"));
  Send("q", "m");
  ASSERT_EQ(Receive("q").size(), 1u);
  EXPECT_CODE(DeleteMessage("q", got[0].receipt_handle()), kReceiptHandleIsInvalid);
}

}  // namespace
}  // namespace sluice::testing
