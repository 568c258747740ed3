#include "proto/sqs_json.h"

#include <map>

#include "common/base64.h"

namespace sluice {
namespace {

// Protobuf maps iterate in no particular order; output is sorted by key.
template <typename Value, typename ToJson>
SqsJson SortedObject(const google::protobuf::Map<std::string, Value>& map, ToJson to_json) {
  std::map<std::string, const Value*> sorted;
  for (const auto& [key, value] : map) sorted.emplace(key, &value);
  SqsJson out = SqsJson::object();
  for (const auto& [key, value] : sorted) out[key] = to_json(*value);
  return out;
}

SqsJson AttributeValueJson(const pb::MessageAttributeValue& v) {
  SqsJson out = SqsJson::object();
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

}  // namespace

SqsJson StringMapJson(const google::protobuf::Map<std::string, std::string>& map) {
  return SortedObject(map, [](const std::string& v) { return SqsJson(v); });
}

SqsJson MessageAttributesJson(
    const google::protobuf::Map<std::string, pb::MessageAttributeValue>& attributes) {
  return SortedObject(attributes, &AttributeValueJson);
}

SqsJson SendMessageResultJson(const pb::SendMessageResult& r) {
  SqsJson out = SqsJson::object();
  out["MD5OfMessageBody"] = r.md5_of_message_body();
  if (!r.md5_of_message_attributes().empty()) {
    out["MD5OfMessageAttributes"] = r.md5_of_message_attributes();
  }
  out["MessageId"] = r.message_id();
  if (!r.sequence_number().empty()) out["SequenceNumber"] = r.sequence_number();
  return out;
}

SqsJson SendBatchResultJson(const pb::SendMessageResult& r) {
  SqsJson out = SqsJson::object();
  out["Id"] = r.id();
  out["MessageId"] = r.message_id();
  out["MD5OfMessageBody"] = r.md5_of_message_body();
  if (!r.md5_of_message_attributes().empty()) {
    out["MD5OfMessageAttributes"] = r.md5_of_message_attributes();
  }
  if (!r.sequence_number().empty()) out["SequenceNumber"] = r.sequence_number();
  return out;
}

SqsJson MessageJson(const pb::Message& m) {
  SqsJson out = SqsJson::object();
  out["MessageId"] = m.message_id();
  out["ReceiptHandle"] = m.receipt_handle();
  out["MD5OfBody"] = m.md5_of_body();
  out["Body"] = m.body();
  if (!m.attributes().empty()) out["Attributes"] = StringMapJson(m.attributes());
  if (!m.md5_of_message_attributes().empty()) {
    out["MD5OfMessageAttributes"] = m.md5_of_message_attributes();
  }
  if (!m.message_attributes().empty()) {
    out["MessageAttributes"] = MessageAttributesJson(m.message_attributes());
  }
  return out;
}

SqsJson MoveTaskJson(const pb::MessageMoveTask& t) {
  SqsJson out = SqsJson::object();
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

}  // namespace sluice
