#include "producer/cli/json_output.h"

#include <map>

#include "client/client.h"
#include "common/base64.h"
#include "common/status.h"
#include "producer/cli/urls.h"

namespace sluice {
namespace {

// Protobuf maps iterate in no particular order; output is sorted by key.
template <typename Value, typename ToJson>
OutputJson SortedObject(const google::protobuf::Map<std::string, Value>& map, ToJson to_json) {
  std::map<std::string, const Value*> sorted;
  for (const auto& [key, value] : map) sorted.emplace(key, &value);
  OutputJson out = OutputJson::object();
  for (const auto& [key, value] : sorted) out[key] = to_json(*value);
  return out;
}

OutputJson StringMap(const google::protobuf::Map<std::string, std::string>& map) {
  return SortedObject(map, [](const std::string& v) { return OutputJson(v); });
}

OutputJson AttributeValueJson(const pb::MessageAttributeValue& v) {
  OutputJson out = OutputJson::object();
  // The data type may carry a label ("Binary.png"); its base type decides
  // which value it holds.
  if (v.data_type().starts_with("Binary")) {
    out["BinaryValue"] = Base64Encode(v.binary_value());
  } else {
    out["StringValue"] = v.string_value();
  }
  out["DataType"] = v.data_type();
  return out;
}

// One entry of send-message-batch's Successful list; send-message's answer
// has the same members in another order, without Id.
OutputJson SendBatchResultJson(const pb::SendMessageResult& r) {
  OutputJson out = OutputJson::object();
  out["Id"] = r.id();
  out["MessageId"] = r.message_id();
  out["MD5OfMessageBody"] = r.md5_of_message_body();
  if (!r.md5_of_message_attributes().empty()) {
    out["MD5OfMessageAttributes"] = r.md5_of_message_attributes();
  }
  if (!r.sequence_number().empty()) out["SequenceNumber"] = r.sequence_number();
  return out;
}

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

OutputJson MessageJson(const pb::Message& m) {
  OutputJson out = OutputJson::object();
  out["MessageId"] = m.message_id();
  out["ReceiptHandle"] = m.receipt_handle();
  out["MD5OfBody"] = m.md5_of_body();
  out["Body"] = m.body();
  if (!m.attributes().empty()) out["Attributes"] = StringMap(m.attributes());
  if (!m.md5_of_message_attributes().empty()) {
    out["MD5OfMessageAttributes"] = m.md5_of_message_attributes();
  }
  if (!m.message_attributes().empty()) {
    out["MessageAttributes"] = SortedObject(m.message_attributes(), &AttributeValueJson);
  }
  return out;
}

OutputJson MoveTaskJson(const pb::MessageMoveTask& t) {
  OutputJson out = OutputJson::object();
  if (!t.task_handle().empty()) out["TaskHandle"] = t.task_handle();
  out["Status"] = t.status();
  out["SourceArn"] = t.source_arn();
  if (!t.destination_arn().empty()) out["DestinationArn"] = t.destination_arn();
  if (t.max_number_of_messages_per_second() > 0) {
    out["MaxNumberOfMessagesPerSecond"] = t.max_number_of_messages_per_second();
  }
  out["ApproximateNumberOfMessagesMoved"] = t.approximate_number_of_messages_moved();
  out["ApproximateNumberOfMessagesToMove"] = t.approximate_number_of_messages_to_move();
  if (!t.failure_reason().empty()) out["FailureReason"] = t.failure_reason();
  out["StartedTimestamp"] = t.started_timestamp();
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
  return {{"Attributes", StringMap(resp.attributes())}};
}

OutputJson ListQueueTagsJson(const pb::ListQueueTagsResponse& resp) {
  if (resp.tags().empty()) return nullptr;
  return {{"Tags", StringMap(resp.tags())}};
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
  const pb::SendMessageResult& r = resp.result();
  OutputJson out = OutputJson::object();
  out["MD5OfMessageBody"] = r.md5_of_message_body();
  if (!r.md5_of_message_attributes().empty()) {
    out["MD5OfMessageAttributes"] = r.md5_of_message_attributes();
  }
  out["MessageId"] = r.message_id();
  if (!r.sequence_number().empty()) out["SequenceNumber"] = r.sequence_number();
  return out;
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
