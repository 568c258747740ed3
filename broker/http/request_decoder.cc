#include "broker/http/request_decoder.h"

#include <simdjson.h>

#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>

#include "broker/engine/validation.h"
#include "common/base64.h"
#include "proto/operations.h"

namespace sluice::http {
namespace {

using Element = simdjson::dom::element;

// Reads the members of one call (or one batch entry); the first error wins
// and later reads are skipped.
class Reader {
 public:
  explicit Reader(Element object) : object_(object) {}

  const Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }

  std::optional<std::string> String(std::string_view name) {
    std::optional<Element> v = Find(name);
    if (!v) return std::nullopt;
    if (std::optional<std::string> s = Scalar(*v)) return s;
    Fail(std::string(name) + " must be a string");
    return std::nullopt;
  }

  std::string RequiredString(std::string_view name) {
    std::optional<std::string> v = String(name);
    if (!v && ok()) Missing(name);
    return v.value_or("");
  }

  std::optional<int64_t> Int(std::string_view name) {
    std::optional<Element> v = Find(name);
    if (!v) return std::nullopt;
    if (int64_t n = 0; v->get_int64().get(n) == simdjson::SUCCESS) return n;
    if (std::string_view s; v->get_string().get(s) == simdjson::SUCCESS) {
      int64_t n = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
      if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) return n;
    }
    Fail("the value for parameter " + std::string(name) +
         " is not a valid integer: " + simdjson::minify(*v));
    return std::nullopt;
  }

  std::optional<int32_t> Int32(std::string_view name) {
    std::optional<int64_t> v = Int(name);
    if (!v) return std::nullopt;
    if (*v < std::numeric_limits<int32_t>::min() || *v > std::numeric_limits<int32_t>::max()) {
      Fail("the value for parameter " + std::string(name) +
           " is out of range: " + std::to_string(*v));
      return std::nullopt;
    }
    return static_cast<int32_t>(*v);
  }

  // A positive count (MaxResults).
  std::optional<uint32_t> Count(std::string_view name) {
    std::optional<int64_t> v = Int(name);
    if (!v) return std::nullopt;
    if (*v < 1 || *v > std::numeric_limits<int32_t>::max()) {
      Fail("the value for parameter " + std::string(name) +
           " must be at least 1: " + std::to_string(*v));
      return std::nullopt;
    }
    return static_cast<uint32_t>(*v);
  }

  template <typename Repeated>
  void Strings(std::string_view name, Repeated* out) {
    std::optional<Element> v = Find(name);
    if (!v) return;
    if (!v->is_array()) return Fail(std::string(name) + " must be a list of strings");
    for (Element item : simdjson::dom::array(*v)) {
      std::string_view text;
      if (item.get_string().get(text) != simdjson::SUCCESS) {
        return Fail(std::string(name) + " must be a list of strings");
      }
      out->Add(std::string(text));
    }
  }

  template <typename Map>
  void StringMap(std::string_view name, Map* out) {
    std::optional<Element> v = Find(name);
    if (!v) return;
    if (!v->is_object()) return Fail(std::string(name) + " must be a map of strings");
    for (auto [key, item] : simdjson::dom::object(*v)) {
      std::optional<std::string> value = Scalar(item);
      if (!value) return Fail(std::string(name) + "." + std::string(key) + " must be a string");
      (*out)[std::string(key)] = std::move(*value);
    }
  }

  void MessageAttributes(std::string_view name,
                         google::protobuf::Map<std::string, pb::MessageAttributeValue>* out) {
    std::optional<Element> v = Find(name);
    if (!v) return;
    if (!v->is_object()) return Fail(std::string(name) + " must be a map");
    for (auto [key_view, item] : simdjson::dom::object(*v)) {
      const std::string key(key_view);
      if (!item.is_object()) return Fail(std::string(name) + " '" + key + "' has no value");
      Reader value(item);
      pb::MessageAttributeValue& a = (*out)[key];
      a.set_data_type(value.RequiredString("DataType"));
      if (auto s = value.String("StringValue")) a.set_string_value(*s);
      if (auto b = value.String("BinaryValue")) {
        Result<std::string> bytes = Base64Decode(*b);
        if (!bytes.ok()) {
          return Fail(std::string(name) + " '" + key + "': BinaryValue is not base64");
        }
        a.set_binary_value(std::move(*bytes));
      }
      if (!value.ok()) {
        return Fail(std::string(name) + " '" + key + "': " + value.status().detail(),
                    value.status().code());
      }
    }
  }

  // The queue a call names: the last segment of QueueUrl, else of the path.
  std::string QueueName(std::string_view path_queue) {
    std::optional<std::string> url = String("QueueUrl");
    if (!ok()) return "";
    if (!url) {
      if (path_queue.empty()) Missing("QueueUrl");
      return std::string(path_queue);
    }
    const size_t slash = url->find_last_of('/');
    std::string name = slash == std::string::npos ? *url : url->substr(slash + 1);
    if (name.empty()) Fail("the value for parameter QueueUrl is not a queue URL: " + *url);
    return name;
  }

  std::optional<Element> Child(std::string_view name) { return Find(name); }

  void Fail(std::string detail, StatusCode code = StatusCode::kInvalidParameterValue) {
    if (ok()) status_ = Status(code, std::move(detail));
  }
  void Missing(std::string_view name) {
    Fail("The request must contain the parameter " + std::string(name) + ".",
         StatusCode::kMissingParameter);
  }

 private:
  // A member that is present and not null.
  std::optional<Element> Find(std::string_view name) const {
    if (!ok()) return std::nullopt;
    Element v;
    if (object_.at_key(name).get(v) != simdjson::SUCCESS || v.is_null()) return std::nullopt;
    return v;
  }

  // A string, or a number or boolean as its JSON text; nothing for the rest.
  static std::optional<std::string> Scalar(Element v) {
    if (std::string_view text; v.get_string().get(text) == simdjson::SUCCESS) {
      return std::string(text);
    }
    if (v.is_number() || v.is_bool()) return simdjson::minify(v);
    return std::nullopt;
  }

  Element object_;
  Status status_;
};

// The system attributes SQS knows: AWSTraceHeader, a String. Their MD5 is
// answered, as the SDKs check it; the broker does not keep them.
std::optional<std::string> SystemAttributesMd5(Reader& r) {
  google::protobuf::Map<std::string, pb::MessageAttributeValue> attributes;
  r.MessageAttributes("MessageSystemAttributes", &attributes);
  if (!r.ok() || attributes.empty()) return std::nullopt;
  for (const auto& [name, value] : attributes) {
    if (name != "AWSTraceHeader" || value.data_type() != "String") {
      r.Fail("message system attribute '" + name +
             "' is not supported: the one SQS has is AWSTraceHeader, a String");
      return std::nullopt;
    }
  }
  return MessageAttributesMd5(attributes);
}

void ReadSendEntry(Reader& r, pb::SendMessageEntry* e) {
  e->set_body(r.RequiredString("MessageBody"));
  if (auto d = r.Int32("DelaySeconds")) e->set_delay_seconds(*d);
  r.MessageAttributes("MessageAttributes", e->mutable_message_attributes());
  if (auto g = r.String("MessageGroupId")) e->set_message_group_id(*g);
  if (auto d = r.String("MessageDeduplicationId")) e->set_message_deduplication_id(*d);
}

// Calls each entry of the Entries list with a Reader of its own.
template <typename Fn>
void ForEachEntry(Reader& r, Fn&& fn) {
  std::optional<Element> entries = r.Child("Entries");
  if (!r.ok()) return;
  if (!entries) return r.Missing("Entries");
  if (!entries->is_array()) return r.Fail("Entries must be a list");
  for (Element entry : simdjson::dom::array(*entries)) {
    if (!entry.is_object()) return r.Fail("each of Entries must be a structure");
    Reader e(entry);
    fn(e);
    if (!e.ok()) return r.Fail(e.status().detail(), e.status().code());
  }
}

using Decoded = Result<DecodedRequest, ApiError>;

Status Fill(Reader& r, std::string_view path_queue, DecodedRequest* d) {
  pb::Request& req = d->request;
  switch (req.op_case()) {
    case pb::Request::kCreateQueue: {
      auto* m = req.mutable_create_queue();
      m->set_queue_name(r.RequiredString("QueueName"));
      r.StringMap("Attributes", m->mutable_attributes());
      // The JSON model names CreateQueue's tags in lower case.
      r.StringMap("tags", m->mutable_tags());
      r.StringMap("Tags", m->mutable_tags());
      break;
    }
    case pb::Request::kDeleteQueue:
      req.mutable_delete_queue()->set_queue_name(r.QueueName(path_queue));
      break;
    case pb::Request::kGetQueueUrl:
      req.mutable_get_queue_url()->set_queue_name(r.RequiredString("QueueName"));
      break;
    case pb::Request::kListQueues: {
      auto* m = req.mutable_list_queues();
      if (auto p = r.String("QueueNamePrefix")) m->set_queue_name_prefix(*p);
      if (auto n = r.Count("MaxResults")) m->set_max_results(*n);
      if (auto t = r.String("NextToken")) m->set_next_token(*t);
      break;
    }
    case pb::Request::kGetQueueAttributes: {
      auto* m = req.mutable_get_queue_attributes();
      m->set_queue_name(r.QueueName(path_queue));
      r.Strings("AttributeNames", m->mutable_attribute_names());
      break;
    }
    case pb::Request::kSetQueueAttributes: {
      auto* m = req.mutable_set_queue_attributes();
      m->set_queue_name(r.QueueName(path_queue));
      if (!r.Child("Attributes") && r.ok()) r.Missing("Attributes");
      r.StringMap("Attributes", m->mutable_attributes());
      break;
    }
    case pb::Request::kPurgeQueue:
      req.mutable_purge_queue()->set_queue_name(r.QueueName(path_queue));
      break;
    case pb::Request::kSendMessage: {
      auto* m = req.mutable_send_message();
      m->set_queue_name(r.QueueName(path_queue));
      ReadSendEntry(r, m->mutable_entry());
      if (auto md5 = SystemAttributesMd5(r)) d->system_attributes_md5[""] = *md5;
      break;
    }
    case pb::Request::kSendMessageBatch: {
      auto* m = req.mutable_send_message_batch();
      m->set_queue_name(r.QueueName(path_queue));
      ForEachEntry(r, [&](Reader& e) {
        pb::SendMessageEntry* entry = m->add_entries();
        entry->set_id(e.RequiredString("Id"));
        ReadSendEntry(e, entry);
        if (auto md5 = SystemAttributesMd5(e)) d->system_attributes_md5[entry->id()] = *md5;
      });
      break;
    }
    case pb::Request::kReceiveMessage: {
      auto* m = req.mutable_receive_message();
      m->set_queue_name(r.QueueName(path_queue));
      if (auto n = r.Int("MaxNumberOfMessages")) {
        if (*n < 1 || *n > 10) {
          r.Fail("Value " + std::to_string(*n) +
                 " for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and "
                 "10, if provided.");
        } else {
          m->set_max_number_of_messages(static_cast<uint32_t>(*n));
        }
      }
      if (auto v = r.Int32("VisibilityTimeout")) m->set_visibility_timeout(*v);
      if (auto w = r.Int32("WaitTimeSeconds")) m->set_wait_time_seconds(*w);
      r.Strings("AttributeNames", m->mutable_attribute_names());
      r.Strings("MessageSystemAttributeNames", m->mutable_attribute_names());
      r.Strings("MessageAttributeNames", m->mutable_message_attribute_names());
      if (auto a = r.String("ReceiveRequestAttemptId")) m->set_receive_request_attempt_id(*a);
      break;
    }
    case pb::Request::kDeleteMessage: {
      auto* m = req.mutable_delete_message();
      m->set_queue_name(r.QueueName(path_queue));
      m->set_receipt_handle(r.RequiredString("ReceiptHandle"));
      break;
    }
    case pb::Request::kDeleteMessageBatch: {
      auto* m = req.mutable_delete_message_batch();
      m->set_queue_name(r.QueueName(path_queue));
      ForEachEntry(r, [&](Reader& e) {
        pb::DeleteMessageBatchEntry* entry = m->add_entries();
        entry->set_id(e.RequiredString("Id"));
        entry->set_receipt_handle(e.RequiredString("ReceiptHandle"));
      });
      break;
    }
    case pb::Request::kChangeMessageVisibility: {
      auto* m = req.mutable_change_message_visibility();
      m->set_queue_name(r.QueueName(path_queue));
      m->set_receipt_handle(r.RequiredString("ReceiptHandle"));
      if (auto v = r.Int32("VisibilityTimeout")) {
        m->set_visibility_timeout(*v);
      } else if (r.ok()) {
        r.Missing("VisibilityTimeout");
      }
      break;
    }
    case pb::Request::kChangeMessageVisibilityBatch: {
      auto* m = req.mutable_change_message_visibility_batch();
      m->set_queue_name(r.QueueName(path_queue));
      ForEachEntry(r, [&](Reader& e) {
        pb::ChangeMessageVisibilityBatchEntry* entry = m->add_entries();
        entry->set_id(e.RequiredString("Id"));
        entry->set_receipt_handle(e.RequiredString("ReceiptHandle"));
        if (auto v = e.Int32("VisibilityTimeout")) {
          entry->set_visibility_timeout(*v);
        } else if (e.ok()) {
          e.Missing("VisibilityTimeout");
        }
      });
      break;
    }
    case pb::Request::kStartMessageMoveTask: {
      auto* m = req.mutable_start_message_move_task();
      m->set_source_arn(r.RequiredString("SourceArn"));
      if (auto a = r.String("DestinationArn")) m->set_destination_arn(*a);
      if (auto n = r.Int32("MaxNumberOfMessagesPerSecond")) {
        m->set_max_number_of_messages_per_second(*n);
      }
      break;
    }
    case pb::Request::kCancelMessageMoveTask:
      req.mutable_cancel_message_move_task()->set_task_handle(r.RequiredString("TaskHandle"));
      break;
    case pb::Request::kListMessageMoveTasks: {
      auto* m = req.mutable_list_message_move_tasks();
      m->set_source_arn(r.RequiredString("SourceArn"));
      if (auto n = r.Count("MaxResults")) m->set_max_results(*n);
      break;
    }
    case pb::Request::kTagQueue: {
      auto* m = req.mutable_tag_queue();
      m->set_queue_name(r.QueueName(path_queue));
      if (!r.Child("Tags") && r.ok()) r.Missing("Tags");
      r.StringMap("Tags", m->mutable_tags());
      break;
    }
    case pb::Request::kUntagQueue: {
      auto* m = req.mutable_untag_queue();
      m->set_queue_name(r.QueueName(path_queue));
      if (!r.Child("TagKeys") && r.ok()) r.Missing("TagKeys");
      r.Strings("TagKeys", m->mutable_tag_keys());
      break;
    }
    case pb::Request::kListQueueTags:
      req.mutable_list_queue_tags()->set_queue_name(r.QueueName(path_queue));
      break;
    case pb::Request::kListDeadLetterSourceQueues: {
      auto* m = req.mutable_list_dead_letter_source_queues();
      m->set_queue_name(r.QueueName(path_queue));
      if (auto n = r.Count("MaxResults")) m->set_max_results(*n);
      if (auto t = r.String("NextToken")) m->set_next_token(*t);
      break;
    }
    case pb::Request::OP_NOT_SET:
      break;
  }
  return r.status();
}

// Sets the request's operation from its SQS name; false for a name that is
// not one of ours.
bool SetOperation(std::string_view action, pb::Request* req) {
#define SLUICE_SET_OPERATION(Name, field, cli_name) \
  if (action == ops::Name::kName) {                 \
    req->mutable_##field();                         \
    return true;                                    \
  }
  SLUICE_OPERATIONS(SLUICE_SET_OPERATION)
#undef SLUICE_SET_OPERATION
  return false;
}

}  // namespace

Decoded DecodeRequest(std::string_view action, std::string_view params,
                      std::string_view path_queue) {
  DecodedRequest d;
  if (!SetOperation(action, &d.request)) {
    if (action == "AddPermission" || action == "RemovePermission") {
      return ToApiError(
          {StatusCode::kUnsupportedOperation,
           std::string(action) +
               " is not supported: Sluice's grants are in the broker's principals file "
               "(--principals), which it reloads on SIGHUP"});
    }
    return InvalidAction(std::string(action));
  }
  // One parser for the thread, so that its buffers are reused: the broker
  // decodes on its one loop thread.
  thread_local simdjson::dom::parser parser;
  Element object;
  if (params.empty()) params = "{}";
  if (auto error = parser.parse(params.data(), params.size()).get(object); error) {
    return ApiError::Of(
        400, "SerializationException",
        std::string("the request body is not valid JSON: ") + simdjson::error_message(error));
  }
  if (!object.is_object()) {
    return ApiError::Of(400, "SerializationException", "the request body must be a JSON object");
  }
  Reader reader(object);
  if (Status s = Fill(reader, path_queue, &d); !s.ok()) return ToApiError(s);
  return d;
}

}  // namespace sluice::http
