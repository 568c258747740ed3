#include "broker/http/response_encoder.h"

#include <cstdint>
#include <utility>

#include "common/wire_error.h"

namespace sluice::http {
namespace {

using json = SqsJson;

// The length of the UTF-8 sequence that `text` starts with when it encodes
// a character XML 1.0 allows from U+0080 on (to U+D7FF, U+E000 to U+FFFD,
// U+10000 to U+10FFFF); 0 otherwise.
size_t XmlCharLength(std::string_view text) {
  const auto byte = [&](size_t at) { return static_cast<unsigned char>(text[at]); };
  const unsigned char lead = byte(0);
  const size_t n = lead >= 0xC2 && lead < 0xE0   ? 2
                   : lead >= 0xE0 && lead < 0xF0 ? 3
                   : lead >= 0xF0 && lead < 0xF5 ? 4
                                                 : 0;
  if (n == 0 || n > text.size()) return 0;
  uint32_t cp = lead & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    if ((byte(k) & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (byte(k) & 0x3F);
  }
  const bool shortest = n == 2 || (n == 3 && cp >= 0x800) || (n == 4 && cp >= 0x10000);
  const bool allowed =
      cp <= 0xD7FF || (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
  return shortest && allowed ? n : 0;
}

// JSON text; bytes that are not UTF-8 become U+FFFD instead of throwing (the
// engine admits only valid characters, so this is a guard, not a path).
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json QueueUrls(const google::protobuf::RepeatedPtrField<std::string>& names,
               std::string_view url_prefix) {
  json urls = json::array();
  for (const std::string& name : names) urls.push_back(std::string(url_prefix) + name);
  return urls;
}

// A send's answer, with the MD5 of the system attributes it sent, if any.
json WithSystemAttributesMd5(json result, const DecodedRequest& call, const std::string& entry_id) {
  if (auto it = call.system_attributes_md5.find(entry_id); it != call.system_attributes_md5.end()) {
    result["MD5OfMessageSystemAttributes"] = it->second;
  }
  return result;
}

json FailedJson(const google::protobuf::RepeatedPtrField<pb::BatchResultError>& failed) {
  json out = json::array();
  for (const pb::BatchResultError& f : failed) {
    out.push_back(
        {{"Id", f.id()},
         {"SenderFault", f.sender_fault()},
         {"Code", BatchEntryCode(FromWire(f.code()))},
         {"Message", f.detail().empty() ? BatchEntryCode(FromWire(f.code())) : f.detail()}});
  }
  return out;
}

template <typename BatchResponse>
json IdsBatchJson(const BatchResponse& r) {
  json ok = json::array();
  for (const pb::BatchResultOk& s : r.successful()) ok.push_back({{"Id", s.id()}});
  return {{"Successful", std::move(ok)}, {"Failed", FailedJson(r.failed())}};
}

// The operations whose answer has no members: their XML has no <OpResult>.
bool HasNoOutput(std::string_view action) {
  return action == "DeleteQueue" || action == "SetQueueAttributes" || action == "PurgeQueue" ||
         action == "DeleteMessage" || action == "ChangeMessageVisibility" || action == "TagQueue" ||
         action == "UntagQueue";
}

// How a JSON member is flattened into XML.
struct Flattening {
  std::string_view member;
  std::string_view element;   // of each item of a list, or each pair of a map
  std::string_view key = {};  // a map's: the element names of key and value
  std::string_view value = {};
};

constexpr Flattening kFlattenings[] = {
    {"QueueUrls", "QueueUrl"},
    {"queueUrls", "QueueUrl"},
    {"Messages", "Message"},
    {"Failed", "BatchResultErrorEntry"},
    {"Results", "ListMessageMoveTasksResultEntry"},
    {"Attributes", "Attribute", "Name", "Value"},
    {"Tags", "Tag", "Key", "Value"},
    {"MessageAttributes", "MessageAttribute", "Name", "Value"},
};

void AppendElement(std::string_view name, const json& value, std::string_view action,
                   std::string* out);

void AppendMembers(const json& object, std::string_view action, std::string* out) {
  for (const auto& [member, value] : object.items()) {
    const Flattening* f = nullptr;
    for (const Flattening& candidate : kFlattenings) {
      if (candidate.member == member) f = &candidate;
    }
    // A batch's successes are "<Op>ResultEntry" elements.
    std::string entry_name;
    if (member == "Successful") {
      entry_name = std::string(action) + "ResultEntry";
    } else if (f != nullptr) {
      entry_name = f->element;
    }
    if (value.is_array()) {
      for (const json& item : value)
        AppendElement(entry_name.empty() ? member : entry_name, item, action, out);
    } else if (value.is_object() && f != nullptr && !f->key.empty()) {
      for (const auto& [key, item] : value.items()) {
        out->append("<").append(entry_name).append("><").append(f->key).append(">");
        AppendXmlEscaped(key, out);
        out->append("</").append(f->key).append(">");
        AppendElement(f->value, item, action, out);
        out->append("</").append(entry_name).append(">");
      }
    } else {
      AppendElement(member, value, action, out);
    }
  }
}

void AppendElement(std::string_view name, const json& value, std::string_view action,
                   std::string* out) {
  out->append("<").append(name).append(">");
  if (value.is_object()) {
    AppendMembers(value, action, out);
  } else if (value.is_string()) {
    AppendXmlEscaped(value.get_ref<const std::string&>(), out);
  } else {
    out->append(value.dump());  // numbers, and booleans as true/false
  }
  out->append("</").append(name).append(">");
}

constexpr std::string_view kXmlns = "http://queue.amazonaws.com/doc/2012-11-05/";

}  // namespace

json EncodeResult(const DecodedRequest& call, const pb::Response& resp,
                  std::string_view url_prefix) {
  const pb::Request& req = call.request;
  switch (resp.op_case()) {
    case pb::Response::kCreateQueue:
      return {{"QueueUrl", std::string(url_prefix) + req.create_queue().queue_name()}};
    case pb::Response::kGetQueueUrl:
      return {{"QueueUrl", std::string(url_prefix) + req.get_queue_url().queue_name()}};
    case pb::Response::kListQueues: {
      json out = json::object();
      if (!resp.list_queues().queue_names().empty()) {
        out["QueueUrls"] = QueueUrls(resp.list_queues().queue_names(), url_prefix);
      }
      if (!resp.list_queues().next_token().empty()) {
        out["NextToken"] = resp.list_queues().next_token();
      }
      return out;
    }
    case pb::Response::kGetQueueAttributes: {
      // SQS answers no attributes to a call that names none; the engine
      // takes none to mean all, as the CLI wants.
      if (req.get_queue_attributes().attribute_names().empty() ||
          resp.get_queue_attributes().attributes().empty()) {
        return json::object();
      }
      return {{"Attributes", StringMapJson(resp.get_queue_attributes().attributes())}};
    }
    case pb::Response::kSendMessage:
      return WithSystemAttributesMd5(SendMessageResultJson(resp.send_message().result()), call, "");
    case pb::Response::kSendMessageBatch: {
      json ok = json::array();
      for (const pb::SendMessageResult& r : resp.send_message_batch().successful()) {
        ok.push_back(WithSystemAttributesMd5(SendBatchResultJson(r), call, r.id()));
      }
      return {{"Successful", std::move(ok)},
              {"Failed", FailedJson(resp.send_message_batch().failed())}};
    }
    case pb::Response::kReceiveMessage: {
      json out = json::object();
      if (resp.receive_message().messages().empty()) return out;
      json messages = json::array();
      for (const pb::Message& m : resp.receive_message().messages()) {
        messages.push_back(MessageJson(m));
      }
      out["Messages"] = std::move(messages);
      return out;
    }
    case pb::Response::kDeleteMessageBatch:
      return IdsBatchJson(resp.delete_message_batch());
    case pb::Response::kChangeMessageVisibilityBatch:
      return IdsBatchJson(resp.change_message_visibility_batch());
    case pb::Response::kStartMessageMoveTask:
      return {{"TaskHandle", resp.start_message_move_task().task_handle()}};
    case pb::Response::kCancelMessageMoveTask:
      return {{"ApproximateNumberOfMessagesMoved",
               resp.cancel_message_move_task().approximate_number_of_messages_moved()}};
    case pb::Response::kListMessageMoveTasks: {
      json results = json::array();
      for (const pb::MessageMoveTask& t : resp.list_message_move_tasks().results()) {
        results.push_back(MoveTaskJson(t));
      }
      return {{"Results", std::move(results)}};
    }
    case pb::Response::kListQueueTags:
      if (resp.list_queue_tags().tags().empty()) return json::object();
      return {{"Tags", StringMapJson(resp.list_queue_tags().tags())}};
    case pb::Response::kListDeadLetterSourceQueues: {
      const auto& r = resp.list_dead_letter_source_queues();
      json out = {{"queueUrls", QueueUrls(r.queue_names(), url_prefix)}};
      if (!r.next_token().empty()) out["NextToken"] = r.next_token();
      return out;
    }
    case pb::Response::kDeleteQueue:
    case pb::Response::kSetQueueAttributes:
    case pb::Response::kPurgeQueue:
    case pb::Response::kDeleteMessage:
    case pb::Response::kChangeMessageVisibility:
    case pb::Response::kTagQueue:
    case pb::Response::kUntagQueue:
    case pb::Response::OP_NOT_SET:
      break;
  }
  return json::object();
}

pb::Request WhatEncodingNeeds(const pb::Request& req) {
  switch (req.op_case()) {
    case pb::Request::kCreateQueue: {
      pb::Request kept;
      kept.mutable_create_queue()->set_queue_name(req.create_queue().queue_name());
      return kept;
    }
    case pb::Request::kGetQueueUrl:
    case pb::Request::kGetQueueAttributes:
      return req;
    default:
      return pb::Request();
  }
}

std::string RenderJson(const json& result) { return Dump(result); }

std::string RenderXml(std::string_view action, const json& result, std::string_view request_id) {
  std::string out = "<?xml version=\"1.0\"?><";
  out.append(action).append("Response xmlns=\"").append(kXmlns).append("\">");
  if (!HasNoOutput(action)) {
    out.append("<").append(action).append("Result>");
    AppendMembers(result, action, &out);
    out.append("</").append(action).append("Result>");
  }
  out.append("<ResponseMetadata><RequestId>");
  AppendXmlEscaped(request_id, &out);
  out.append("</RequestId></ResponseMetadata></").append(action).append("Response>");
  return out;
}

std::string RenderJsonError(const ApiError& error) {
  return Dump({{"__type", "com.amazonaws.sqs#" + error.shape}, {"message", error.message}});
}

std::string QueryErrorHeader(const ApiError& error) {
  return error.query_code + (error.sender_fault ? ";Sender" : ";Receiver");
}

std::string RenderXmlError(const ApiError& error, std::string_view request_id) {
  std::string out = "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"";
  out.append(kXmlns).append("\"><Error><Type>");
  out.append(error.sender_fault ? "Sender" : "Receiver").append("</Type><Code>");
  AppendXmlEscaped(error.query_code, &out);
  out.append("</Code><Message>");
  AppendXmlEscaped(error.message, &out);
  out.append("</Message><Detail/></Error><RequestId>");
  AppendXmlEscaped(request_id, &out);
  out.append("</RequestId></ErrorResponse>");
  return out;
}

void AppendXmlEscaped(std::string_view text, std::string* out) {
  constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    switch (c) {
      case '&':
        out->append("&amp;");
        break;
      case '<':
        out->append("&lt;");
        break;
      case '>':
        out->append("&gt;");
        break;
      case '\r':
        out->append("&#xD;");
        break;
      case '\t':
      case '\n':
        out->push_back(c);
        break;
      default:
        if (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x80) {
          out->push_back(c);
        } else if (const size_t n = XmlCharLength(text.substr(i)); n > 0) {
          out->append(text.substr(i, n));
          i += n;
          continue;
        } else {
          // A byte XML cannot carry (a control character, or not UTF-8):
          // only error messages quoting a client's bytes hold one, and a
          // client's parser must still read the answer.
          out->append(kReplacement);
        }
    }
    ++i;
  }
}

}  // namespace sluice::http
