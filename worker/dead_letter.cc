#include "worker/dead_letter.h"

#include <nlohmann/json.hpp>

namespace sluice::worker {
namespace {

constexpr size_t kMaxAttributes = 10;  // SQS's limit per message
constexpr size_t kMaxDetailBytes = 1024;

pb::MessageAttributeValue StringAttribute(const std::string& value) {
  pb::MessageAttributeValue v;
  v.set_data_type("String");
  v.set_string_value(value);
  return v;
}

// At most `max` bytes of `text`, cut at a UTF-8 character boundary.
std::string Truncate(const std::string& text, size_t max) {
  if (text.size() <= max) return text;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace

Result<std::string> FindDeadLetterQueue(Client& client, const std::string& queue) {
  pb::GetQueueAttributesRequest req;
  req.set_queue_name(queue);
  req.add_attribute_names("RedrivePolicy");
  auto resp = client.GetQueueAttributes(req);
  if (!resp.ok()) return resp.status();
  auto it = resp->attributes().find("RedrivePolicy");
  if (it == resp->attributes().end() || it->second.empty()) return std::string();
  auto policy = nlohmann::json::parse(it->second, nullptr, /*allow_exceptions=*/false);
  if (!policy.is_object() || !policy["deadLetterTargetArn"].is_string()) {
    return Status(StatusCode::kInternalError, "unreadable RedrivePolicy: " + it->second);
  }
  const std::string arn = policy["deadLetterTargetArn"].get<std::string>();
  return arn.substr(arn.rfind(':') + 1);
}

Status SendToDeadLetterQueue(Client& client, const std::string& dead_letter_queue,
                             const pb::Message& message, const JobError& error) {
  pb::SendMessageRequest req;
  req.set_queue_name(dead_letter_queue);
  pb::SendMessageEntry* entry = req.mutable_entry();
  entry->set_body(message.body());
  auto* attributes = entry->mutable_message_attributes();
  for (const auto& [name, value] : message.message_attributes()) {
    if (attributes->size() + 2 >= kMaxAttributes) break;
    if (name.starts_with("SluiceFailure")) continue;
    (*attributes)[name] = value;
  }
  (*attributes)["SluiceFailureReason"] = StringAttribute(std::string(ReasonName(error.reason)));
  (*attributes)["SluiceFailureDetail"] =
      StringAttribute(error.detail.empty() ? "-" : Truncate(error.detail, kMaxDetailBytes));
  if (auto group = message.attributes().find("MessageGroupId");
      group != message.attributes().end()) {
    entry->set_message_group_id(group->second);
    entry->set_message_deduplication_id(message.message_id());
  }
  auto resp = client.SendMessage(req);
  return resp.ok() ? Status::Ok() : resp.status();
}

}  // namespace sluice::worker
