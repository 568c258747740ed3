// FindDenial: the grants each request needs, batches, moves and ListQueues.
#include "broker/auth/access.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::auth {
namespace {

Principal With(std::vector<Grant> grants) {
  Principal p;
  p.name = "p";
  p.grants = std::move(grants);
  return p;
}

pb::Request Send(const std::string& queue) {
  pb::Request r;
  r.mutable_send_message()->set_queue_name(queue);
  return r;
}

TEST(AccessTest, DeniesByDefaultAndWithoutAPrincipal) {
  const Principal none = With({});
  auto denial = FindDenial(&none, Send("q"));
  ASSERT_TRUE(denial.has_value());
  EXPECT_EQ(denial->action, "SendMessage");
  EXPECT_EQ(denial->queue, "q");
  const Principal all = With({{{"*"}, {"*"}}});
  EXPECT_FALSE(FindDenial(&all, Send("q")).has_value());
  EXPECT_TRUE(FindDenial(nullptr, Send("q")).has_value());
}

TEST(AccessTest, ABatchNeedsItsSingleOperationsGrant) {
  const Principal sender = With({{{"SendMessage", "DeleteMessage"}, {"q"}}});
  pb::Request batch;
  batch.mutable_send_message_batch()->set_queue_name("q");
  EXPECT_FALSE(FindDenial(&sender, batch).has_value());
  pb::Request deletes;
  deletes.mutable_delete_message_batch()->set_queue_name("q");
  EXPECT_FALSE(FindDenial(&sender, deletes).has_value());
  pb::Request changes;
  changes.mutable_change_message_visibility_batch()->set_queue_name("q");
  auto denial = FindDenial(&sender, changes);
  ASSERT_TRUE(denial.has_value());
  EXPECT_EQ(denial->action, "ChangeMessageVisibility");
  // The batch's own name grants nothing more.
  const Principal batch_only = With({{{"SendMessageBatch"}, {"q"}}});
  EXPECT_TRUE(FindDenial(&batch_only, batch).has_value());
}

TEST(AccessTest, AMoveNeedsReceiveAndDeleteOnTheSourceAndSendOnTheDestination) {
  pb::Request move;
  move.mutable_start_message_move_task()->set_source_arn("arn:aws:sqs:us-east-1:0:dlq");
  move.mutable_start_message_move_task()->set_destination_arn("arn:aws:sqs:us-east-1:0:jobs");
  const Principal full =
      With({{{"ReceiveMessage", "DeleteMessage"}, {"dlq"}}, {{"SendMessage"}, {"jobs"}}});
  EXPECT_FALSE(FindDenial(&full, move).has_value());
  const Principal no_send = With({{{"ReceiveMessage", "DeleteMessage"}, {"dlq"}}});
  auto denial = FindDenial(&no_send, move);
  ASSERT_TRUE(denial.has_value());
  EXPECT_EQ(denial->action, "SendMessage");
  EXPECT_EQ(denial->queue, "jobs");
  const Principal no_delete = With({{{"ReceiveMessage"}, {"dlq"}}, {{"SendMessage"}, {"jobs"}}});
  ASSERT_TRUE(FindDenial(&no_delete, move).has_value());
  EXPECT_EQ(FindDenial(&no_delete, move)->action, "DeleteMessage");
  // Back to each message's source: any queue, so SendMessage on "*".
  move.mutable_start_message_move_task()->clear_destination_arn();
  EXPECT_TRUE(FindDenial(&full, move).has_value());
  const Principal anywhere =
      With({{{"ReceiveMessage", "DeleteMessage"}, {"dlq"}}, {{"SendMessage"}, {"*"}}});
  EXPECT_FALSE(FindDenial(&anywhere, move).has_value());
}

TEST(AccessTest, TaskHandlesAndArnsNameTheirQueue) {
  const Principal p = With({{{"CancelMessageMoveTask", "ListMessageMoveTasks"}, {"dlq"}}});
  pb::Request cancel;
  cancel.mutable_cancel_message_move_task()->set_task_handle("mt-7-dlq");
  EXPECT_FALSE(FindDenial(&p, cancel).has_value());
  cancel.mutable_cancel_message_move_task()->set_task_handle("mt-7-other");
  EXPECT_TRUE(FindDenial(&p, cancel).has_value());
  pb::Request list;
  list.mutable_list_message_move_tasks()->set_source_arn("arn:aws:sqs:us-east-1:0:dlq");
  EXPECT_FALSE(FindDenial(&p, list).has_value());
}

TEST(AccessTest, ListQueuesListsOnlyWhatTheGrantsMatch) {
  const Principal p = With({{{"ListQueues"}, {"photos*"}}});
  pb::Request list;
  list.mutable_list_queues();
  EXPECT_FALSE(FindDenial(&p, list).has_value());
  pb::ListQueuesResponse resp;
  for (const char* name : {"payments", "photos", "photos-dlq"}) resp.add_queue_names(name);
  FilterListQueues(p, &resp);
  ASSERT_EQ(resp.queue_names_size(), 2);
  EXPECT_EQ(resp.queue_names(0), "photos");
  EXPECT_EQ(resp.queue_names(1), "photos-dlq");
  const Principal none = With({{{"SendMessage"}, {"*"}}});
  EXPECT_TRUE(FindDenial(&none, list).has_value());
}

TEST(AccessTest, TheRefusalIsAccessDeniedInSqsWords) {
  const Status s = DeniedStatus("worker", Denial{"PurgeQueue", "photos"});
  EXPECT_EQ(s.code(), StatusCode::kAccessDenied);
  EXPECT_EQ(s.detail(),
            "User: worker is not authorized to perform: sqs:PurgeQueue on resource: photos");
}

}  // namespace
}  // namespace sluice::auth
