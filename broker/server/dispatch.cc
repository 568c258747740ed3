#include "broker/server/dispatch.h"

#include "common/wire_error.h"

namespace sluice {

void SetError(const Status& s, pb::Response* resp) {
  if (s.ok()) return;
  resp->mutable_error()->set_code(ToWire(s.code()));
  resp->mutable_error()->set_detail(s.detail());
}

void Dispatch(Engine& engine, const pb::Request& req, pb::Response* resp) {
  resp->set_request_id(req.request_id());
  Status s;
  switch (req.op_case()) {
#define SLUICE_OP(field, Method)                             \
  case pb::Request::k##Method:                               \
    s = engine.Method(req.field(), resp->mutable_##field()); \
    break;
    SLUICE_OP(create_queue, CreateQueue)
    SLUICE_OP(delete_queue, DeleteQueue)
    SLUICE_OP(get_queue_url, GetQueueUrl)
    SLUICE_OP(list_queues, ListQueues)
    SLUICE_OP(get_queue_attributes, GetQueueAttributes)
    SLUICE_OP(set_queue_attributes, SetQueueAttributes)
    SLUICE_OP(purge_queue, PurgeQueue)
    SLUICE_OP(send_message, SendMessage)
    SLUICE_OP(send_message_batch, SendMessageBatch)
    SLUICE_OP(receive_message, ReceiveMessage)
    SLUICE_OP(delete_message, DeleteMessage)
    SLUICE_OP(delete_message_batch, DeleteMessageBatch)
    SLUICE_OP(change_message_visibility, ChangeMessageVisibility)
    SLUICE_OP(change_message_visibility_batch, ChangeMessageVisibilityBatch)
    SLUICE_OP(start_message_move_task, StartMessageMoveTask)
    SLUICE_OP(cancel_message_move_task, CancelMessageMoveTask)
    SLUICE_OP(list_message_move_tasks, ListMessageMoveTasks)
#undef SLUICE_OP
    case pb::Request::OP_NOT_SET:
      s = Status(StatusCode::kMalformedRequest, "the request names no operation this broker knows");
      break;
  }
  if (!s.ok()) {
    // An error answer carries no operation body.
    resp->clear_op();
    SetError(s, resp);
  }
}

std::string_view OperationName(pb::Request::OpCase op) {
  switch (op) {
    case pb::Request::kCreateQueue:
      return "CreateQueue";
    case pb::Request::kDeleteQueue:
      return "DeleteQueue";
    case pb::Request::kGetQueueUrl:
      return "GetQueueUrl";
    case pb::Request::kListQueues:
      return "ListQueues";
    case pb::Request::kGetQueueAttributes:
      return "GetQueueAttributes";
    case pb::Request::kSetQueueAttributes:
      return "SetQueueAttributes";
    case pb::Request::kPurgeQueue:
      return "PurgeQueue";
    case pb::Request::kSendMessage:
      return "SendMessage";
    case pb::Request::kSendMessageBatch:
      return "SendMessageBatch";
    case pb::Request::kReceiveMessage:
      return "ReceiveMessage";
    case pb::Request::kDeleteMessage:
      return "DeleteMessage";
    case pb::Request::kDeleteMessageBatch:
      return "DeleteMessageBatch";
    case pb::Request::kChangeMessageVisibility:
      return "ChangeMessageVisibility";
    case pb::Request::kChangeMessageVisibilityBatch:
      return "ChangeMessageVisibilityBatch";
    case pb::Request::kStartMessageMoveTask:
      return "StartMessageMoveTask";
    case pb::Request::kCancelMessageMoveTask:
      return "CancelMessageMoveTask";
    case pb::Request::kListMessageMoveTasks:
      return "ListMessageMoveTasks";
    case pb::Request::OP_NOT_SET:
      break;
  }
  return "Unknown";
}

}  // namespace sluice
