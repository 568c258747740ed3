// The operations of the wire protocol (sluice.proto), listed once. Whatever
// must handle every operation is made from this list: the broker's dispatch
// and its operation names, the client's methods and the CLI's subcommands.
// Adding an operation is a line here, its messages in sluice.proto, its
// Engine method and its CLI subcommand; the build fails until each exists.
//
// SLUICE_OPERATIONS(X) expands X(Name, field, cli_name) once per operation:
//   Name      SQS's name of the operation ("SendMessageBatch"), which is
//             also the name of its Engine and Client methods, of its
//             messages pb::NameRequest and pb::NameResponse, and of its
//             cases pb::Request::kName and pb::Response::kName
//   field     the member of the Request and Response oneofs that carries it
//   cli_name  its subcommand, as `aws sqs` names it ("send-message-batch")
//
// Code written once for all operations, instead of expanded from the list,
// takes an operation as a type: ops::Name (below).
#ifndef SLUICE_PROTO_OPERATIONS_H_
#define SLUICE_PROTO_OPERATIONS_H_

#include <string_view>

#include "sluice.pb.h"

// In the order of the oneofs.
#define SLUICE_OPERATIONS(X)                                                         \
  X(CreateQueue, create_queue, "create-queue")                                       \
  X(DeleteQueue, delete_queue, "delete-queue")                                       \
  X(GetQueueUrl, get_queue_url, "get-queue-url")                                     \
  X(ListQueues, list_queues, "list-queues")                                          \
  X(GetQueueAttributes, get_queue_attributes, "get-queue-attributes")                \
  X(SetQueueAttributes, set_queue_attributes, "set-queue-attributes")                \
  X(PurgeQueue, purge_queue, "purge-queue")                                          \
  X(SendMessage, send_message, "send-message")                                       \
  X(SendMessageBatch, send_message_batch, "send-message-batch")                      \
  X(ReceiveMessage, receive_message, "receive-message")                              \
  X(DeleteMessage, delete_message, "delete-message")                                 \
  X(DeleteMessageBatch, delete_message_batch, "delete-message-batch")                \
  X(ChangeMessageVisibility, change_message_visibility, "change-message-visibility") \
  X(ChangeMessageVisibilityBatch, change_message_visibility_batch,                   \
    "change-message-visibility-batch")                                               \
  X(StartMessageMoveTask, start_message_move_task, "start-message-move-task")        \
  X(CancelMessageMoveTask, cancel_message_move_task, "cancel-message-move-task")     \
  X(ListMessageMoveTasks, list_message_move_tasks, "list-message-move-tasks")        \
  X(TagQueue, tag_queue, "tag-queue")                                                \
  X(UntagQueue, untag_queue, "untag-queue")                                          \
  X(ListQueueTags, list_queue_tags, "list-queue-tags")                               \
  X(ListDeadLetterSourceQueues, list_dead_letter_source_queues, "list-dead-letter-source-queues")

namespace sluice::ops {

// ops::Name: operation Name as a type, for templates. It names the
// operation's messages, both of its names, and puts its request into the
// envelope and takes its answer out.
#define SLUICE_OPERATION_TYPE(Name, field, cli_name)                                   \
  struct Name {                                                                        \
    using Request = pb::Name##Request;                                                 \
    using Response = pb::Name##Response;                                               \
    static constexpr std::string_view kName = #Name;                                   \
    static constexpr std::string_view kCliName = cli_name;                             \
    static constexpr pb::Response::OpCase kResponseCase = pb::Response::k##Name;       \
    static Request* MutableRequest(pb::Request* r) { return r->mutable_##field(); }    \
    static Response* MutableResponse(pb::Response* r) { return r->mutable_##field(); } \
  };
SLUICE_OPERATIONS(SLUICE_OPERATION_TYPE)
#undef SLUICE_OPERATION_TYPE

}  // namespace sluice::ops

#endif  // SLUICE_PROTO_OPERATIONS_H_
