#include "producer/cli/batch_entries.h"

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>

#include "common/base64.h"
#include "producer/cli/shorthand.h"

namespace sluice {
namespace {

using nlohmann::json;
using AttributeValues = google::protobuf::Map<std::string, pb::MessageAttributeValue>;

Status Invalid(std::string detail) {
  return Status(StatusCode::kInvalidParameterValue, std::move(detail));
}

std::string Member(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

// Reads the members of one JSON object, naming `path` in its errors.
class ObjectReader {
 public:
  ObjectReader(const json& object, std::string path) : object_(object), path_(std::move(path)) {}

  const std::string& path() const { return path_; }

  // Fails on a member that is not in `known`, listing the known ones.
  Status CheckKeys(std::initializer_list<std::string_view> known) const {
    for (const auto& [key, value] : object_.items()) {
      bool found = false;
      for (std::string_view k : known) found = found || k == key;
      if (found) continue;
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return Invalid(Member(path_, key) + ": unknown key (expected one of " + list + ")");
    }
    return Status::Ok();
  }

  // Leaves `out` alone when the member is absent and not required.
  Status String(std::string_view key, bool required, std::string* out) const {
    const json* value = Find(key);
    if (value == nullptr) {
      return required ? Invalid(Member(path_, key) + ": missing") : Status::Ok();
    }
    if (!value->is_string()) return Invalid(Member(path_, key) + ": expected a string");
    *out = value->get<std::string>();
    return Status::Ok();
  }

  Status Int32(std::string_view key, std::optional<int32_t>* out) const {
    const json* value = Find(key);
    if (value == nullptr) return Status::Ok();
    const bool fits = value->is_number_unsigned()
                          ? value->get<uint64_t>() <= std::numeric_limits<int32_t>::max()
                          : value->is_number_integer() &&
                                value->get<int64_t>() >= std::numeric_limits<int32_t>::min() &&
                                value->get<int64_t>() <= std::numeric_limits<int32_t>::max();
    if (!fits) return Invalid(Member(path_, key) + ": expected a 32-bit integer");
    *out = static_cast<int32_t>(value->get<int64_t>());
    return Status::Ok();
  }

  const json* Find(std::string_view key) const {
    auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }

 private:
  const json& object_;
  std::string path_;
};

Status ReadAttributeValue(const ObjectReader& r, pb::MessageAttributeValue* out) {
  Status s = r.CheckKeys({"DataType", "StringValue", "BinaryValue"});
  if (s.ok()) s = r.String("DataType", true, out->mutable_data_type());
  if (s.ok()) s = r.String("StringValue", false, out->mutable_string_value());
  std::string base64;
  if (s.ok()) s = r.String("BinaryValue", false, &base64);
  if (!s.ok() || base64.empty()) return s;
  Result<std::string> bytes = Base64Decode(base64);
  if (!bytes.ok()) return Invalid(Member(r.path(), "BinaryValue") + ": " + bytes.status().detail());
  out->set_binary_value(std::move(*bytes));
  return Status::Ok();
}

Status ReadAttributeValues(const json& object, const std::string& path, AttributeValues* out) {
  if (!object.is_object()) {
    return Invalid((path.empty() ? "" : path + ": ") + "expected a JSON object of attributes");
  }
  for (const auto& [name, value] : object.items()) {
    if (!value.is_object()) {
      return Invalid(Member(path, name) + ": expected an object with DataType and a value");
    }
    Status s = ReadAttributeValue(ObjectReader(value, Member(path, name)), &(*out)[name]);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status ReadSendEntry(const ObjectReader& r, pb::SendMessageEntry* out) {
  Status s = r.CheckKeys({"Id", "MessageBody", "DelaySeconds", "MessageAttributes",
                          "MessageGroupId", "MessageDeduplicationId"});
  if (s.ok()) s = r.String("Id", true, out->mutable_id());
  if (s.ok()) s = r.String("MessageBody", true, out->mutable_body());
  std::optional<int32_t> delay;
  if (s.ok()) s = r.Int32("DelaySeconds", &delay);
  if (delay) out->set_delay_seconds(*delay);
  if (s.ok()) s = r.String("MessageGroupId", false, out->mutable_message_group_id());
  if (s.ok())
    s = r.String("MessageDeduplicationId", false, out->mutable_message_deduplication_id());
  const json* attributes = r.Find("MessageAttributes");
  if (s.ok() && attributes != nullptr) {
    s = ReadAttributeValues(*attributes, Member(r.path(), "MessageAttributes"),
                            out->mutable_message_attributes());
  }
  return s;
}

Status ReadDeleteEntry(const ObjectReader& r, pb::DeleteMessageBatchEntry* out) {
  Status s = r.CheckKeys({"Id", "ReceiptHandle"});
  if (s.ok()) s = r.String("Id", true, out->mutable_id());
  if (s.ok()) s = r.String("ReceiptHandle", true, out->mutable_receipt_handle());
  return s;
}

Status ReadVisibilityEntry(const ObjectReader& r, pb::ChangeMessageVisibilityBatchEntry* out) {
  Status s = r.CheckKeys({"Id", "ReceiptHandle", "VisibilityTimeout"});
  if (s.ok()) s = r.String("Id", true, out->mutable_id());
  if (s.ok()) s = r.String("ReceiptHandle", true, out->mutable_receipt_handle());
  std::optional<int32_t> timeout;
  if (s.ok()) s = r.Int32("VisibilityTimeout", &timeout);
  // SQS's VisibilityTimeout defaults to 0 here: the message is released.
  out->set_visibility_timeout(timeout.value_or(0));
  return s;
}

template <typename Entry>
Result<std::vector<Entry>> ParseEntries(std::string_view text,
                                        Status (*read_entry)(const ObjectReader&, Entry*)) {
  Result<json> parsed = ParseJsonArgument(text);
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_array()) return Invalid("expected a JSON list of entries");
  std::vector<Entry> entries;
  for (size_t i = 0; i < parsed->size(); ++i) {
    const json& item = (*parsed)[i];
    // Built in steps: GCC 12 at -O3 warns falsely (-Wrestrict, bug 105329)
    // on "[" + std::to_string(i) + "]".
    std::string path = "[";
    path += std::to_string(i);
    path += ']';
    if (!item.is_object()) return Invalid(path + ": expected a JSON object");
    Status s = read_entry(ObjectReader(item, path), &entries.emplace_back());
    if (!s.ok()) return s;
  }
  return entries;
}

}  // namespace

Status ParseMessageAttributes(std::string_view text, AttributeValues* out) {
  Result<json> parsed = ParseJsonArgument(text);
  if (!parsed.ok()) return parsed.status();
  return ReadAttributeValues(*parsed, "", out);
}

Result<std::vector<pb::SendMessageEntry>> ParseSendEntries(std::string_view text) {
  return ParseEntries<pb::SendMessageEntry>(text, &ReadSendEntry);
}

Result<std::vector<pb::DeleteMessageBatchEntry>> ParseDeleteEntries(std::string_view text) {
  return ParseEntries<pb::DeleteMessageBatchEntry>(text, &ReadDeleteEntry);
}

Result<std::vector<pb::ChangeMessageVisibilityBatchEntry>> ParseVisibilityEntries(
    std::string_view text) {
  return ParseEntries<pb::ChangeMessageVisibilityBatchEntry>(text, &ReadVisibilityEntry);
}

}  // namespace sluice
