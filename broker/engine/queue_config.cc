#include "broker/engine/queue_config.h"

#include <charconv>
#include <nlohmann/json.hpp>

#include "broker/engine/limits.h"

namespace sluice {
namespace {

Status InvalidValue(const std::string& name, const std::string& value, const std::string& why) {
  return {StatusCode::kInvalidAttributeValue,
          "invalid value '" + value + "' for attribute " + name + ": " + why};
}

Status ParseInt(const std::string& name, const std::string& value, int lo, int hi, int* out) {
  int v = 0;
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, v);
  if (value.empty() || ec != std::errc() || ptr != end) {
    return InvalidValue(name, value, "not a whole number");
  }
  if (v < lo || v > hi) {
    return InvalidValue(name, value,
                        "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  }
  *out = v;
  return Status::Ok();
}

Status ParseBool(const std::string& name, const std::string& value, bool* out) {
  if (value == "true" || value == "True") {
    *out = true;
  } else if (value == "false" || value == "False") {
    *out = false;
  } else {
    return InvalidValue(name, value, "must be true or false");
  }
  return Status::Ok();
}

Status ParseRedrivePolicy(const std::string& value, std::optional<RedrivePolicy>* out) {
  static const std::string kName = "RedrivePolicy";
  // An empty policy removes the queue's dead-letter queue, as in SQS.
  if (value.empty() || value == "{}") {
    out->reset();
    return Status::Ok();
  }
  nlohmann::json j = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return InvalidValue(kName, value, "not a JSON object");
  RedrivePolicy policy;
  auto target = j.find("deadLetterTargetArn");
  if (target == j.end() || !target->is_string()) {
    return InvalidValue(kName, value, "deadLetterTargetArn is missing");
  }
  policy.dead_letter_queue = QueueNameFromArnOrName(target->get<std::string>());
  auto count = j.find("maxReceiveCount");
  std::string count_text;
  if (count != j.end() && count->is_string()) {
    count_text = count->get<std::string>();
  } else if (count != j.end() && count->is_number_integer()) {
    count_text = std::to_string(count->get<int64_t>());
  } else {
    return InvalidValue(kName, value, "maxReceiveCount is missing");
  }
  if (Status s = ParseInt(kName + ".maxReceiveCount", count_text, 1, limits::kMaxReceiveCountLimit,
                          &policy.max_receive_count);
      !s.ok()) {
    return s;
  }
  *out = policy;
  return Status::Ok();
}

}  // namespace

Status ApplyAttributes(const AttributeMap& attributes, bool creating, QueueConfig* config) {
  QueueConfig c = *config;
  for (const auto& [name, value] : attributes) {
    Status s;
    if (name == "VisibilityTimeout") {
      s = ParseInt(name, value, 0, limits::kMaxVisibilityTimeoutSeconds, &c.visibility_timeout_s);
    } else if (name == "MessageRetentionPeriod") {
      s = ParseInt(name, value, limits::kMinRetentionSeconds, limits::kMaxRetentionSeconds,
                   &c.message_retention_s);
    } else if (name == "DelaySeconds") {
      s = ParseInt(name, value, 0, limits::kMaxDelaySeconds, &c.delay_s);
    } else if (name == "ReceiveMessageWaitTimeSeconds") {
      s = ParseInt(name, value, 0, limits::kMaxWaitTimeSeconds, &c.receive_wait_s);
    } else if (name == "MaximumMessageSize") {
      s = ParseInt(name, value, limits::kMinMessageSizeCap, limits::kMaxMessageSizeCap,
                   &c.max_message_size);
    } else if (name == "RedrivePolicy") {
      s = ParseRedrivePolicy(value, &c.redrive);
    } else if (name == "FifoQueue") {
      if (!creating) {
        return {StatusCode::kInvalidAttributeName,
                "FifoQueue can only be set when a queue is created"};
      }
      s = ParseBool(name, value, &c.fifo);
    } else if (name == "ContentBasedDeduplication") {
      s = ParseBool(name, value, &c.content_based_deduplication);
    } else {
      return {StatusCode::kInvalidAttributeName, "unknown or read-only attribute: " + name};
    }
    if (!s.ok()) return s;
  }
  if (c.content_based_deduplication && !c.fifo) {
    return {StatusCode::kInvalidAttributeName, "ContentBasedDeduplication is for FIFO queues only"};
  }
  *config = c;
  return Status::Ok();
}

AttributeMap ConfigAttributes(const QueueConfig& c, const ArnFormat& arns) {
  AttributeMap a;
  a["VisibilityTimeout"] = std::to_string(c.visibility_timeout_s);
  a["MessageRetentionPeriod"] = std::to_string(c.message_retention_s);
  a["DelaySeconds"] = std::to_string(c.delay_s);
  a["ReceiveMessageWaitTimeSeconds"] = std::to_string(c.receive_wait_s);
  a["MaximumMessageSize"] = std::to_string(c.max_message_size);
  if (c.redrive) {
    nlohmann::json j = {{"deadLetterTargetArn", arns.Of(c.redrive->dead_letter_queue)},
                        {"maxReceiveCount", c.redrive->max_receive_count}};
    a["RedrivePolicy"] = j.dump();
  }
  if (c.fifo) {
    a["FifoQueue"] = "true";
    a["ContentBasedDeduplication"] = c.content_based_deduplication ? "true" : "false";
  }
  return a;
}

std::string ArnFormat::Of(const std::string& queue_name) const {
  std::string arn = "arn:aws:sqs:";
  arn.append(region).append(":").append(account_id).append(":").append(queue_name);
  return arn;
}

std::string QueueNameFromArnOrName(const std::string& arn_or_name) {
  const size_t cut = arn_or_name.find_last_of(":/");
  return cut == std::string::npos ? arn_or_name : arn_or_name.substr(cut + 1);
}

}  // namespace sluice
