#include "producer/cli/json_output.h"

#include "client/client.h"
#include "common/status.h"
#include "producer/cli/urls.h"
#include "proto/sqs_json.h"

namespace sluice {
namespace {

OutputJson FailedJson(const google::protobuf::RepeatedPtrField<pb::BatchResultError>& failed) {
  OutputJson out = OutputJson::array();
  for (const pb::BatchResultError& e : failed) {
    out.push_back({{"Id", e.id()},
                   {"SenderFault", e.sender_fault()},
                   {"Code", std::string(ErrorCodeName(EntryStatus(e).code()))},
                   {"Message", e.detail()}});
  }
  return out;
}

// The answer of delete-message-batch and change-message-visibility-batch.
OutputJson BatchOkJson(const google::protobuf::RepeatedPtrField<pb::BatchResultOk>& successful,
                       const google::protobuf::RepeatedPtrField<pb::BatchResultError>& failed) {
  OutputJson out = OutputJson::object();
  if (!successful.empty()) {
    OutputJson list = OutputJson::array();
    for (const pb::BatchResultOk& ok : successful) list.push_back({{"Id", ok.id()}});
    out["Successful"] = std::move(list);
  }
  if (!failed.empty()) out["Failed"] = FailedJson(failed);
  return out;
}

}  // namespace

OutputJson QueueUrlJson(const std::string& endpoint, const std::string& queue_name) {
  return {{"QueueUrl", QueueUrl(endpoint, queue_name)}};
}

OutputJson ListQueuesJson(const std::string& endpoint, const pb::ListQueuesResponse& resp) {
  if (resp.queue_names().empty() && resp.next_token().empty()) return nullptr;
  OutputJson out = OutputJson::object();
  OutputJson urls = OutputJson::array();
  for (const std::string& name : resp.queue_names()) urls.push_back(QueueUrl(endpoint, name));
  out["QueueUrls"] = std::move(urls);
  if (!resp.next_token().empty()) out["NextToken"] = resp.next_token();
  return out;
}

OutputJson GetQueueAttributesJson(const pb::GetQueueAttributesResponse& resp) {
  return {{"Attributes", StringMapJson(resp.attributes())}};
}

OutputJson ListQueueTagsJson(const pb::ListQueueTagsResponse& resp) {
  if (resp.tags().empty()) return nullptr;
  return {{"Tags", StringMapJson(resp.tags())}};
}

OutputJson ListDeadLetterSourceQueuesJson(const std::string& endpoint,
                                          const pb::ListDeadLetterSourceQueuesResponse& resp) {
  OutputJson out = OutputJson::object();
  OutputJson urls = OutputJson::array();
  for (const std::string& name : resp.queue_names()) urls.push_back(QueueUrl(endpoint, name));
  out["queueUrls"] = std::move(urls);
  if (!resp.next_token().empty()) out["NextToken"] = resp.next_token();
  return out;
}

OutputJson SendMessageJson(const pb::SendMessageResponse& resp) {
  return SendMessageResultJson(resp.result());
}

OutputJson SendMessageBatchJson(const pb::SendMessageBatchResponse& resp) {
  OutputJson out = OutputJson::object();
  if (!resp.successful().empty()) {
    OutputJson list = OutputJson::array();
    for (const pb::SendMessageResult& r : resp.successful()) list.push_back(SendBatchResultJson(r));
    out["Successful"] = std::move(list);
  }
  if (!resp.failed().empty()) out["Failed"] = FailedJson(resp.failed());
  return out;
}

OutputJson ReceiveMessageJson(const pb::ReceiveMessageResponse& resp) {
  if (resp.messages().empty()) return nullptr;
  OutputJson list = OutputJson::array();
  for (const pb::Message& m : resp.messages()) list.push_back(MessageJson(m));
  return {{"Messages", std::move(list)}};
}

OutputJson DeleteMessageBatchJson(const pb::DeleteMessageBatchResponse& resp) {
  return BatchOkJson(resp.successful(), resp.failed());
}

OutputJson ChangeMessageVisibilityBatchJson(const pb::ChangeMessageVisibilityBatchResponse& resp) {
  return BatchOkJson(resp.successful(), resp.failed());
}

OutputJson StartMessageMoveTaskJson(const pb::StartMessageMoveTaskResponse& resp) {
  return {{"TaskHandle", resp.task_handle()}};
}

OutputJson CancelMessageMoveTaskJson(const pb::CancelMessageMoveTaskResponse& resp) {
  return {{"ApproximateNumberOfMessagesMoved", resp.approximate_number_of_messages_moved()}};
}

OutputJson ListMessageMoveTasksJson(const pb::ListMessageMoveTasksResponse& resp) {
  OutputJson list = OutputJson::array();
  for (const pb::MessageMoveTask& t : resp.results()) list.push_back(MoveTaskJson(t));
  return {{"Results", std::move(list)}};
}

std::string FormatJson(const OutputJson& json) {
  if (json.is_null()) return "";
  return json.dump(4, ' ', false, OutputJson::error_handler_t::replace) + "\n";
}

}  // namespace sluice
