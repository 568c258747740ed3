// Message move tasks (redrive from a dead-letter queue): start, list, cancel,
// destinations, rate limits driven by the clock and Engine::Tick.
#include <string>
#include <vector>

#include "tests/unit/broker/engine/engine_test_util.h"

namespace sluice::testing {
namespace {

class MoveTaskTest : public EveryJournalTest {
 protected:
  MoveTaskTest() {
    EXPECT_OK(CreateQueue("dlq"));
    EXPECT_OK(CreateQueue("src1", {{"RedrivePolicy", RedrivePolicyJson("dlq", 1)}}));
    EXPECT_OK(CreateQueue("src2", {{"RedrivePolicy", RedrivePolicyJson("dlq", 1)}}));
    EXPECT_OK(CreateQueue("other"));
  }

  // Sends `bodies` to `source` and has each received once, then moved to its
  // dead-letter queue.
  void DeadLetter(const std::string& source, const std::vector<std::string>& bodies) {
    for (const std::string& body : bodies) Send(source, body);
    while (!Receive(source, 10, /*visibility_timeout=*/0).empty()) {
    }
    EXPECT_EQ(Visible(source) + InFlight(source), 0);
  }
  void DeadLetterMany(const std::string& source, int n) {
    std::vector<std::string> bodies;
    for (int i = 0; i < n; ++i) bodies.push_back("m" + std::to_string(i));
    DeadLetter(source, bodies);
  }

  Status Start(const std::string& source, const std::string& destination, int rate,
               std::string* handle = nullptr) {
    pb::StartMessageMoveTaskRequest req;
    req.set_source_arn(source);
    req.set_destination_arn(destination);
    req.set_max_number_of_messages_per_second(rate);
    pb::StartMessageMoveTaskResponse resp;
    Status s = engine().StartMessageMoveTask(req, &resp);
    if (handle != nullptr) *handle = resp.task_handle();
    return s;
  }

  Status Cancel(const std::string& handle, int64_t* moved = nullptr) {
    pb::CancelMessageMoveTaskRequest req;
    req.set_task_handle(handle);
    pb::CancelMessageMoveTaskResponse resp;
    Status s = engine().CancelMessageMoveTask(req, &resp);
    if (moved != nullptr) *moved = resp.approximate_number_of_messages_moved();
    return s;
  }

  Status List(const std::string& source, uint32_t max, pb::ListMessageMoveTasksResponse* resp) {
    pb::ListMessageMoveTasksRequest req;
    req.set_source_arn(source);
    req.set_max_results(max);
    return engine().ListMessageMoveTasks(req, resp);
  }

  // The newest task of `source`.
  pb::MessageMoveTask Latest(const std::string& source) {
    pb::ListMessageMoveTasksResponse resp;
    EXPECT_OK(List(source, 1, &resp));
    EXPECT_EQ(resp.results_size(), 1);
    return resp.results_size() > 0 ? resp.results(0) : pb::MessageMoveTask();
  }
};

INSTANTIATE_TEST_SUITE_P(Journals, MoveTaskTest, EveryJournal(), JournalParamName);

// --- Destinations -------------------------------------------------------------

TEST_P(MoveTaskTest, RedriveReturnsEachMessageToItsSourceQueue) {
  DeadLetter("src1", {"a", "b"});
  DeadLetter("src2", {"c"});
  ASSERT_EQ(Visible("dlq"), 3);

  std::string handle;
  ASSERT_OK(Start(ArnFormat{}.Of("dlq"), "", 0, &handle));
  EXPECT_FALSE(handle.empty());
  EXPECT_EQ(Visible("dlq"), 0);
  EXPECT_EQ(ReceiveBodies("src1"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ReceiveBodies("src2"), (std::vector<std::string>{"c"}));
  EXPECT_EQ(Visible("other"), 0);

  const pb::MessageMoveTask task = Latest(ArnFormat{}.Of("dlq"));
  EXPECT_EQ(task.status(), "COMPLETED");
  EXPECT_EQ(task.approximate_number_of_messages_moved(), 3);
  EXPECT_EQ(task.approximate_number_of_messages_to_move(), 3);
  EXPECT_FALSE(engine().HasRunningMoveTasks());
}

TEST_P(MoveTaskTest, RedrivenMessageKeepsIdBodyAndAttributesAndStartsAfresh) {
  pb::SendMessageEntry e = Entry("payload");
  (*e.mutable_message_attributes())["color"] = StringAttr("red");
  const Millis sent_at = Now();
  const std::string id = Send("src1", e).message_id();
  while (!Receive("src1", 10, 0).empty()) {
  }
  ASSERT_EQ(Visible("dlq"), 1);
  AdvanceSeconds(5);
  ASSERT_OK(Start("dlq", "", 0));

  std::vector<pb::Message> got = Receive("src1");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].message_id(), id);
  EXPECT_EQ(got[0].body(), "payload");
  EXPECT_EQ(got[0].message_attributes().at("color").string_value(), "red");
  EXPECT_EQ(got[0].attributes().at("SentTimestamp"), std::to_string(sent_at));
  EXPECT_EQ(got[0].attributes().at("ApproximateReceiveCount"), "1");
  EXPECT_FALSE(got[0].attributes().contains("DeadLetterQueueSourceArn"));
}

TEST_P(MoveTaskTest, RedriveToAnExplicitDestination) {
  DeadLetter("src1", {"a"});
  DeadLetter("src2", {"b"});
  ASSERT_OK(Start("dlq", ArnFormat{}.Of("other"), 0));
  EXPECT_EQ(ReceiveBodies("other"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Visible("src1"), 0);
  EXPECT_EQ(Visible("src2"), 0);
  const pb::MessageMoveTask task = Latest("dlq");
  EXPECT_EQ(task.destination_arn(), ArnFormat{}.Of("other"));
  EXPECT_EQ(task.source_arn(), ArnFormat{}.Of("dlq"));
}

TEST_P(MoveTaskTest, FifoRedriveKeepsGroupOrder) {
  ASSERT_OK(CreateQueue("dlq.fifo"));
  ASSERT_OK(CreateQueue("src.fifo", {{"RedrivePolicy", RedrivePolicyJson("dlq.fifo", 1)}}));
  for (int i = 0; i < 3; ++i) Send("src.fifo", FifoEntry("m" + std::to_string(i), "g"));
  while (!Receive("src.fifo", 10, 0).empty()) {
  }
  ASSERT_EQ(Visible("dlq.fifo"), 3);
  ASSERT_OK(Start("dlq.fifo", "", 0));
  EXPECT_EQ(ReceiveBodies("src.fifo"), (std::vector<std::string>{"m0", "m1", "m2"}));
}

// --- Start rules ----------------------------------------------------------------

TEST_P(MoveTaskTest, StartWithoutSourceIsMissingParameter) {
  EXPECT_CODE(Start("", "", 0), kMissingParameter);
}

TEST_P(MoveTaskTest, StartFromMissingQueueIsQueueDoesNotExist) {
  EXPECT_CODE(Start(ArnFormat{}.Of("nope"), "", 0), kQueueDoesNotExist);
}

TEST_P(MoveTaskTest, SourceMustBeADeadLetterQueue) {
  Send("other", "m");
  EXPECT_CODE(Start("other", "", 0), kInvalidParameterValue);
  EXPECT_CODE(Start("src1", ArnFormat{}.Of("other"), 0), kInvalidParameterValue);
  EXPECT_EQ(Visible("other"), 1);
}

TEST_P(MoveTaskTest, DestinationMustExistBeAnotherQueueAndOfTheSameType) {
  DeadLetter("src1", {"a"});
  ASSERT_OK(CreateQueue("other.fifo"));
  EXPECT_CODE(Start("dlq", ArnFormat{}.Of("nope"), 0), kQueueDoesNotExist);
  EXPECT_CODE(Start("dlq", ArnFormat{}.Of("other.fifo"), 0), kInvalidParameterValue);
  EXPECT_CODE(Start("dlq", ArnFormat{}.Of("dlq"), 0), kInvalidParameterValue);
  EXPECT_EQ(Visible("dlq"), 1);
  pb::ListMessageMoveTasksResponse resp;
  ASSERT_OK(List("dlq", 10, &resp));
  EXPECT_EQ(resp.results_size(), 0);
}

TEST_P(MoveTaskTest, RateIsZeroToFiveHundred) {
  EXPECT_CODE(Start("dlq", "", -1), kInvalidParameterValue);
  EXPECT_CODE(Start("dlq", "", 501), kInvalidParameterValue);
  EXPECT_OK(Start("dlq", "", 500));
}

TEST_P(MoveTaskTest, OneRunningTaskPerSource) {
  DeadLetterMany("src1", 10);
  std::string first;
  ASSERT_OK(Start("dlq", "", 1, &first));
  EXPECT_CODE(Start("dlq", "", 1), kInvalidParameterValue);
  EXPECT_CODE(Start("dlq", ArnFormat{}.Of("other"), 0), kInvalidParameterValue);
  ASSERT_OK(Cancel(first));
  EXPECT_OK(Start("dlq", "", 0));
}

TEST_P(MoveTaskTest, TasksOfDifferentSourcesRunTogether) {
  ASSERT_OK(CreateQueue("dlq2"));
  ASSERT_OK(SetAttributes("src2", {{"RedrivePolicy", RedrivePolicyJson("dlq2", 1)}}));
  DeadLetterMany("src1", 5);
  DeadLetterMany("src2", 5);
  EXPECT_OK(Start("dlq", "", 1));
  EXPECT_OK(Start("dlq2", "", 1));
  EXPECT_EQ(Latest("dlq").status(), "RUNNING");
  EXPECT_EQ(Latest("dlq2").status(), "RUNNING");
}

// --- Rate ---------------------------------------------------------------------

TEST_P(MoveTaskTest, RateLimitedTaskMovesWithTheClock) {
  DeadLetterMany("src1", 20);
  ASSERT_OK(Start("dlq", "", 5));
  EXPECT_TRUE(engine().HasRunningMoveTasks());
  EXPECT_LE(Visible("src1"), 5);
  engine().Tick();  // no time has passed: nothing more moves
  const int64_t at_start = Visible("src1");
  EXPECT_LE(at_start, 5);

  for (int second = 1; second <= 3; ++second) {
    AdvanceSeconds(1);
    engine().Tick();
    const pb::MessageMoveTask task = Latest("dlq");
    EXPECT_EQ(task.status(), "RUNNING") << second;
    EXPECT_GE(task.approximate_number_of_messages_moved(), 5 * second) << second;
    EXPECT_LE(task.approximate_number_of_messages_moved(), 5 * second + 1) << second;
    EXPECT_EQ(Visible("src1"), task.approximate_number_of_messages_moved());
    EXPECT_EQ(Visible("dlq"), 20 - task.approximate_number_of_messages_moved());
  }
  AdvanceSeconds(1);
  engine().Tick();
  const pb::MessageMoveTask done = Latest("dlq");
  EXPECT_EQ(done.status(), "COMPLETED");
  EXPECT_EQ(done.approximate_number_of_messages_moved(), 20);
  EXPECT_EQ(done.max_number_of_messages_per_second(), 5);
  EXPECT_EQ(Visible("dlq"), 0);
  EXPECT_EQ(Visible("src1"), 20);
  EXPECT_FALSE(engine().HasRunningMoveTasks());
}

TEST_P(MoveTaskTest, TickWithoutTimeMovesNothingMore) {
  DeadLetterMany("src1", 10);
  ASSERT_OK(Start("dlq", "", 1));
  const int64_t moved = Latest("dlq").approximate_number_of_messages_moved();
  for (int i = 0; i < 5; ++i) engine().Tick();
  EXPECT_EQ(Latest("dlq").approximate_number_of_messages_moved(), moved);
  AdvanceMillis(999);
  engine().Tick();
  EXPECT_EQ(Latest("dlq").approximate_number_of_messages_moved(), moved);
  AdvanceMillis(1);
  engine().Tick();
  EXPECT_EQ(Latest("dlq").approximate_number_of_messages_moved(), moved + 1);
}

TEST_P(MoveTaskTest, TaskMovesOnlyWhatWasThereWhenItStarted) {
  DeadLetterMany("src1", 4);
  ASSERT_OK(Start("dlq", "", 1));
  DeadLetter("src2", {"late"});
  AdvanceSeconds(60);
  engine().Tick();
  const pb::MessageMoveTask task = Latest("dlq");
  EXPECT_EQ(task.status(), "COMPLETED");
  EXPECT_EQ(task.approximate_number_of_messages_to_move(), 4);
  EXPECT_EQ(task.approximate_number_of_messages_moved(), 4);
  EXPECT_EQ(Visible("src1"), 4);
  EXPECT_EQ(Visible("dlq"), 1);
}

TEST_P(MoveTaskTest, EmptyDeadLetterQueueCompletesAtOnce) {
  ASSERT_OK(Start("dlq", "", 0));
  const pb::MessageMoveTask task = Latest("dlq");
  EXPECT_EQ(task.status(), "COMPLETED");
  EXPECT_EQ(task.approximate_number_of_messages_moved(), 0);
}

// --- Cancel ---------------------------------------------------------------------

TEST_P(MoveTaskTest, CancelStopsTheTaskAndReportsWhatItMoved) {
  DeadLetterMany("src1", 10);
  std::string handle;
  ASSERT_OK(Start("dlq", "", 2, &handle));
  AdvanceSeconds(2);
  engine().Tick();
  const int64_t before = Latest("dlq").approximate_number_of_messages_moved();
  int64_t moved = -1;
  ASSERT_OK(Cancel(handle, &moved));
  EXPECT_EQ(moved, before);
  EXPECT_GE(moved, 4);
  EXPECT_LT(moved, 10);

  AdvanceSeconds(60);
  engine().Tick();
  const pb::MessageMoveTask task = Latest("dlq");
  EXPECT_EQ(task.status(), "CANCELLED");
  EXPECT_EQ(task.approximate_number_of_messages_moved(), moved);
  EXPECT_EQ(task.task_handle(), "");  // only a running task shows its handle
  EXPECT_EQ(Visible("src1"), moved);
  EXPECT_EQ(Visible("dlq"), 10 - moved);  // what was not moved stays
  EXPECT_FALSE(engine().HasRunningMoveTasks());
}

TEST_P(MoveTaskTest, CancelOfAnUnknownOrFinishedTaskIsResourceNotFound) {
  EXPECT_CODE(Cancel("no-such-task"), kResourceNotFound);
  DeadLetterMany("src1", 2);
  std::string handle;
  ASSERT_OK(Start("dlq", "", 0, &handle));
  ASSERT_EQ(Latest("dlq").status(), "COMPLETED");
  EXPECT_CODE(Cancel(handle), kResourceNotFound);
}

TEST_P(MoveTaskTest, CancelTwiceIsResourceNotFound) {
  DeadLetterMany("src1", 10);
  std::string handle;
  ASSERT_OK(Start("dlq", "", 1, &handle));
  ASSERT_OK(Cancel(handle));
  EXPECT_CODE(Cancel(handle), kResourceNotFound);
}

// --- List -----------------------------------------------------------------------

TEST_P(MoveTaskTest, ListShowsTheRunningTaskWithItsDetails) {
  DeadLetterMany("src1", 10);
  AdvanceSeconds(7);
  const Millis started = Now();
  std::string handle;
  ASSERT_OK(Start(ArnFormat{}.Of("dlq"), ArnFormat{}.Of("other"), 3, &handle));
  const pb::MessageMoveTask task = Latest(ArnFormat{}.Of("dlq"));
  EXPECT_EQ(task.task_handle(), handle);
  EXPECT_EQ(task.status(), "RUNNING");
  EXPECT_EQ(task.source_arn(), ArnFormat{}.Of("dlq"));
  EXPECT_EQ(task.destination_arn(), ArnFormat{}.Of("other"));
  EXPECT_EQ(task.max_number_of_messages_per_second(), 3);
  EXPECT_EQ(task.approximate_number_of_messages_to_move(), 10);
  EXPECT_EQ(task.started_timestamp(), started);
  EXPECT_EQ(task.failure_reason(), "");
}

TEST_P(MoveTaskTest, ListReturnsNewestFirstOneByDefaultAtMostTen) {
  for (int i = 0; i < 12; ++i) {
    DeadLetter("src1", {"m" + std::to_string(i)});
    AdvanceSeconds(1);
    ASSERT_OK(Start("dlq", "", 0));
  }
  pb::ListMessageMoveTasksResponse one;
  ASSERT_OK(List("dlq", 0, &one));
  ASSERT_EQ(one.results_size(), 1);
  pb::ListMessageMoveTasksResponse ten;
  ASSERT_OK(List("dlq", 10, &ten));
  ASSERT_EQ(ten.results_size(), 10);
  EXPECT_EQ(ten.results(0).started_timestamp(), one.results(0).started_timestamp());
  for (int i = 1; i < 10; ++i) {
    EXPECT_GT(ten.results(i - 1).started_timestamp(), ten.results(i).started_timestamp());
  }
  pb::ListMessageMoveTasksResponse too_many;
  EXPECT_CODE(List("dlq", 11, &too_many), kInvalidParameterValue);
}

TEST_P(MoveTaskTest, ListOfAQueueWithoutTasksIsEmpty) {
  pb::ListMessageMoveTasksResponse resp;
  ASSERT_OK(List("dlq", 10, &resp));
  EXPECT_EQ(resp.results_size(), 0);
  EXPECT_CODE(List("nope", 10, &resp), kQueueDoesNotExist);
}

TEST_P(MoveTaskTest, DeletingTheSourceQueueForgetsItsTasks) {
  DeadLetterMany("src1", 3);
  ASSERT_OK(Start("dlq", "", 1));
  ASSERT_OK(DeleteQueue("dlq"));
  EXPECT_FALSE(engine().HasRunningMoveTasks());
  AdvanceSeconds(10);
  engine().Tick();
  ASSERT_OK(CreateQueue("dlq"));
  pb::ListMessageMoveTasksResponse resp;
  ASSERT_OK(List("dlq", 10, &resp));
  EXPECT_EQ(resp.results_size(), 0);
}

// --- Failure --------------------------------------------------------------------

TEST_P(MoveTaskTest, TaskFailsWhenAMessagesSourceQueueIsGone) {
  DeadLetter("src1", {"a"});
  ASSERT_OK(DeleteQueue("src1"));
  ASSERT_OK(Start("dlq", "", 0));
  const pb::MessageMoveTask task = Latest("dlq");
  EXPECT_EQ(task.status(), "FAILED");
  EXPECT_FALSE(task.failure_reason().empty());
  EXPECT_EQ(task.approximate_number_of_messages_moved(), 0);
  EXPECT_EQ(Visible("dlq"), 1);  // the message was not lost
  EXPECT_FALSE(engine().HasRunningMoveTasks());
}

TEST_P(MoveTaskTest, TaskFailsWhenItsDestinationIsDeletedMidway) {
  DeadLetterMany("src1", 6);
  ASSERT_OK(Start("dlq", ArnFormat{}.Of("other"), 1));
  ASSERT_OK(DeleteQueue("other"));
  AdvanceSeconds(10);
  engine().Tick();
  const pb::MessageMoveTask task = Latest("dlq");
  EXPECT_EQ(task.status(), "FAILED");
  EXPECT_EQ(task.approximate_number_of_messages_moved(), 1);
  EXPECT_EQ(Visible("dlq"), 5);
}

}  // namespace
}  // namespace sluice::testing
