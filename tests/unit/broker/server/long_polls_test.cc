// LongPolls on an Engine with a FakeClock: which receives park, and when a
// parked receive is answered (a message comes to its queue, a timer of the
// queue runs out, its queue is deleted, its wait ends, the broker stops), in
// arrival order.
#include "broker/server/long_polls.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "broker/server/dispatch.h"
#include "tests/unit/broker/engine/engine_test_util.h"

namespace sluice::testing {
namespace {

class LongPollsTest : public EngineTest {
 protected:
  LongPollsTest() { EXPECT_OK(CreateQueue("q")); }

  // A receive of up to `max` messages of `queue` that may wait `wait_s`
  // seconds (none: the queue's default).
  static pb::Request ReceiveReq(uint64_t id, const std::string& queue, std::optional<int> wait_s,
                                int max = 1) {
    pb::Request req;
    req.set_request_id(id);
    req.mutable_receive_message()->set_queue_name(queue);
    req.mutable_receive_message()->set_max_number_of_messages(max);
    if (wait_s) req.mutable_receive_message()->set_wait_time_seconds(*wait_s);
    return req;
  }

  // Runs `req` for `peer` as the server does: dispatched, then parked if it
  // may wait. Whether it parked; `resp` gets the answer when it did not.
  bool Run(const std::string& peer, pb::Request req, pb::Response* resp = nullptr) {
    pb::Response answer;
    Dispatch(engine(), req, &answer);
    if (polls_->MaybePark(peer, &req, answer, Now())) return true;
    if (resp != nullptr) *resp = std::move(answer);
    return false;
  }

  // Serves as the server's loop does at the end of a turn.
  void Serve() { polls_->Serve(Now(), Collect()); }

  LongPolls::Answer Collect() {
    return [this](const LongPolls::Waiter& w, pb::Response resp) {
      answers_.emplace_back(w.peer.zmq_identity, std::move(resp));
    };
  }

  // Made again with the engine when a test resets it.
  std::unique_ptr<LongPolls> polls_ = std::make_unique<LongPolls>(&engine());
  std::vector<std::pair<std::string, pb::Response>> answers_;  // (peer, answer), in order
};

TEST_F(LongPollsTest, ReceiveThatFindsAMessageIsAnsweredAtOnce) {
  Send("q", "m");
  pb::Response resp;
  EXPECT_FALSE(Run("a", ReceiveReq(1, "q", 20), &resp));
  EXPECT_EQ(resp.receive_message().messages_size(), 1);
  EXPECT_EQ(polls_->size(), 0u);
}

TEST_F(LongPollsTest, ReceiveThatMayNotWaitIsAnsweredEmptyAtOnce) {
  pb::Response resp;
  EXPECT_FALSE(Run("a", ReceiveReq(1, "q", 0), &resp));
  EXPECT_FALSE(resp.has_error());
  EXPECT_EQ(resp.receive_message().messages_size(), 0);
  EXPECT_FALSE(Run("a", ReceiveReq(2, "q", std::nullopt)));  // the queue's default is 0
  EXPECT_FALSE(Run("a", ReceiveReq(3, "missing", 20), &resp));
  EXPECT_EQ(resp.error().code(), pb::QUEUE_DOES_NOT_EXIST);
  EXPECT_FALSE(Run("a", ReceiveReq(4, "q", 21), &resp));
  EXPECT_EQ(resp.error().code(), pb::INVALID_PARAMETER_VALUE);
  pb::Request list;
  list.mutable_list_queues();
  EXPECT_FALSE(Run("a", list));
  EXPECT_EQ(polls_->size(), 0u);
  EXPECT_EQ(polls_->NextWakeup(), std::nullopt);
}

TEST_F(LongPollsTest, ReceiveWaitsForTheQueuesDefaultWhenItSetsNone) {
  ASSERT_OK(SetAttributes("q", {{"ReceiveMessageWaitTimeSeconds", "7"}}));
  EXPECT_TRUE(Run("a", ReceiveReq(1, "q", std::nullopt)));
  EXPECT_EQ(polls_->NextWakeup(), Now() + 7'000);
}

TEST_F(LongPollsTest, ParkedReceiveGetsAMessageSentToItsQueue) {
  ASSERT_TRUE(Run("a", ReceiveReq(1, "q", 20)));
  AdvanceSeconds(3);
  Send("q", "m");
  polls_->Touch("q");
  Serve();
  ASSERT_EQ(answers_.size(), 1u);
  EXPECT_EQ(answers_[0].first, "a");
  EXPECT_EQ(answers_[0].second.request_id(), 1u);
  ASSERT_EQ(answers_[0].second.receive_message().messages_size(), 1);
  EXPECT_EQ(answers_[0].second.receive_message().messages(0).body(), "m");
  EXPECT_EQ(polls_->size(), 0u);
}

TEST_F(LongPollsTest, OnlyTouchedQueuesAreRetried) {
  ASSERT_OK(CreateQueue("other"));
  ASSERT_TRUE(Run("a", ReceiveReq(1, "q", 20)));
  Send("q", "m");
  polls_->Touch("other");  // nobody waits there: nothing to do
  Serve();
  EXPECT_TRUE(answers_.empty());
  EXPECT_EQ(polls_->size(), 1u);
  polls_->TouchAll();  // as after a tick
  Serve();
  ASSERT_EQ(answers_.size(), 1u);
  EXPECT_EQ(answers_[0].second.receive_message().messages_size(), 1);
}

TEST_F(LongPollsTest, ParkedReceivesAreServedInArrivalOrder) {
  ASSERT_TRUE(Run("a", ReceiveReq(1, "q", 20)));
  ASSERT_TRUE(Run("b", ReceiveReq(2, "q", 20)));
  ASSERT_TRUE(Run("c", ReceiveReq(3, "q", 20)));
  Send("q", "m1");
  Send("q", "m2");
  polls_->Touch("q");
  Serve();
  ASSERT_EQ(answers_.size(), 2u);
  EXPECT_EQ(answers_[0].first, "a");
  EXPECT_EQ(answers_[0].second.receive_message().messages(0).body(), "m1");
  EXPECT_EQ(answers_[1].first, "b");
  EXPECT_EQ(answers_[1].second.receive_message().messages(0).body(), "m2");
  EXPECT_EQ(polls_->size(), 1u);
}

TEST_F(LongPollsTest, ReceiveOfADeletedQueueIsAnsweredWithTheError) {
  ASSERT_TRUE(Run("a", ReceiveReq(1, "q", 20)));
  ASSERT_OK(DeleteQueue("q"));
  polls_->Touch("q");
  Serve();
  ASSERT_EQ(answers_.size(), 1u);
  EXPECT_EQ(answers_[0].second.request_id(), 1u);
  EXPECT_EQ(answers_[0].second.error().code(), pb::QUEUE_DOES_NOT_EXIST);
  EXPECT_EQ(polls_->size(), 0u);
}

TEST_F(LongPollsTest, WaitThatEndsIsAnsweredWithNoMessages) {
  ASSERT_TRUE(Run("a", ReceiveReq(1, "q", 5)));
  AdvanceSeconds(2);
  ASSERT_TRUE(Run("b", ReceiveReq(2, "q", 5)));
  EXPECT_EQ(polls_->NextWakeup(), Now() + 3'000);
  AdvanceMillis(2'999);
  Serve();
  EXPECT_TRUE(answers_.empty());
  AdvanceMillis(1);
  Serve();
  ASSERT_EQ(answers_.size(), 1u);
  EXPECT_EQ(answers_[0].first, "a");
  EXPECT_EQ(answers_[0].second.request_id(), 1u);
  EXPECT_FALSE(answers_[0].second.has_error());
  EXPECT_TRUE(answers_[0].second.has_receive_message());
  EXPECT_EQ(answers_[0].second.receive_message().messages_size(), 0);
  EXPECT_EQ(polls_->NextWakeup(), Now() + 2'000);
}

TEST_F(LongPollsTest, TimerOfTheQueueWakesItsReceives) {
  pb::SendMessageEntry delayed = Entry("later");
  delayed.set_delay_seconds(4);
  Send("q", delayed);
  ASSERT_TRUE(Run("a", ReceiveReq(1, "q", 20)));
  EXPECT_EQ(polls_->NextWakeup(), Now() + 4'000);
  AdvanceSeconds(4);
  Serve();  // untouched: the queue's timer wakes it
  ASSERT_EQ(answers_.size(), 1u);
  ASSERT_EQ(answers_[0].second.receive_message().messages_size(), 1);
  EXPECT_EQ(answers_[0].second.receive_message().messages(0).body(), "later");
}

TEST_F(LongPollsTest, ReceiveOverTheInflightLimitWaitsInsteadOfFailing) {
  ResetEngine({.inflight_limit = 1, .seed = 1});
  polls_ = std::make_unique<LongPolls>(&engine());
  ASSERT_OK(CreateQueue("q"));
  Send("q", "m1");
  Send("q", "m2");
  std::vector<pb::Message> got = Receive("q", 1);
  ASSERT_EQ(got.size(), 1u);
  pb::Request req = ReceiveReq(1, "q", 20);
  pb::Response resp;
  Dispatch(engine(), req, &resp);
  ASSERT_EQ(resp.error().code(), pb::OVER_LIMIT);
  EXPECT_TRUE(polls_->MaybePark(Peer("a"), &req, resp, Now()));
  ASSERT_OK(DeleteMessage("q", got[0].receipt_handle()));
  polls_->Touch("q");
  Serve();
  ASSERT_EQ(answers_.size(), 1u);
  ASSERT_EQ(answers_[0].second.receive_message().messages_size(), 1);
  EXPECT_EQ(answers_[0].second.receive_message().messages(0).body(), "m2");
}

TEST_F(LongPollsTest, AnswerAllAnswersEveryParkedReceiveWithNoMessages) {
  ASSERT_OK(CreateQueue("other"));
  ASSERT_TRUE(Run("a", ReceiveReq(1, "q", 20)));
  ASSERT_TRUE(Run("b", ReceiveReq(2, "other", 20)));
  EXPECT_EQ(polls_->size(), 2u);
  polls_->AnswerAll(Collect());
  ASSERT_EQ(answers_.size(), 2u);
  for (const auto& [peer, resp] : answers_) {
    EXPECT_FALSE(resp.has_error()) << peer;
    EXPECT_TRUE(resp.has_receive_message()) << peer;
    EXPECT_EQ(resp.receive_message().messages_size(), 0) << peer;
  }
  EXPECT_EQ(polls_->size(), 0u);
  EXPECT_EQ(polls_->NextWakeup(), std::nullopt);
}

}  // namespace
}  // namespace sluice::testing
