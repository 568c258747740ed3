// Form bodies are built by hand and the send batch's once per count, reused
// while its bodies stay the same, as the JSON client does.
#include "bench/query_client.h"

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/http_connection.h"
#include "bench/sqs_error.h"

namespace sluice::bench {
namespace {

constexpr std::string_view kContentType = "application/x-www-form-urlencoded; charset=utf-8";

// application/x-www-form-urlencoded: space is '+', all but the unreserved
// characters are %XX.
void AppendFormEncoded(std::string_view text, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out->push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out->push_back('+');
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    }
  }
}

// "&Name=value", the value encoded.
void AppendParam(std::string_view name, std::string_view value, std::string* out) {
  out->push_back('&');
  out->append(name);
  out->push_back('=');
  AppendFormEncoded(value, out);
}

// The text of the next <tag>...</tag> at or after *from, which moves past it.
std::optional<std::string_view> NextElement(std::string_view xml, std::string_view tag,
                                            size_t* from) {
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  const size_t start = xml.find(open, *from);
  if (start == std::string_view::npos) return std::nullopt;
  const size_t text = start + open.size();
  const size_t end = xml.find(close, text);
  if (end == std::string_view::npos) return std::nullopt;
  *from = end + close.size();
  return xml.substr(text, end - text);
}

std::optional<std::string_view> Element(std::string_view xml, std::string_view tag) {
  size_t from = 0;
  return NextElement(xml, tag, &from);
}

// A numeric character reference's "#NN" or "#xHH" (between '&' and ';').
bool ParseCodePoint(std::string_view entity, uint32_t* cp) {
  if (!entity.starts_with('#')) return false;
  entity.remove_prefix(1);
  int base = 10;
  if (entity.starts_with('x') || entity.starts_with('X')) {
    entity.remove_prefix(1);
    base = 16;
  }
  const char* end = entity.data() + entity.size();
  const auto [at, ec] = std::from_chars(entity.data(), end, *cp, base);
  return !entity.empty() && ec == std::errc() && at == end && *cp <= 0x10FFFF;
}

// XML text with its five named entities and numeric references (as UTF-8)
// replaced.
std::string XmlUnescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const size_t semi = text[i] == '&' ? text.find(';', i) : std::string_view::npos;
    if (semi == std::string_view::npos) {
      out.push_back(text[i]);
      continue;
    }
    const std::string_view entity = text.substr(i + 1, semi - i - 1);
    uint32_t cp = 0;
    if (entity == "amp") {
      cp = '&';
    } else if (entity == "lt") {
      cp = '<';
    } else if (entity == "gt") {
      cp = '>';
    } else if (entity == "quot") {
      cp = '"';
    } else if (entity == "apos") {
      cp = '\'';
    } else if (!ParseCodePoint(entity, &cp)) {
      out.push_back(text[i]);
      continue;
    }
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
    i = semi;
  }
  return out;
}

Status Malformed(const std::string& what) {
  return Status(StatusCode::kInternalError, "malformed answer: " + what);
}

class QueryClient : public BenchClient {
 public:
  QueryClient(const std::string& endpoint, const std::string& queue)
      : http_(endpoint), queue_(queue) {}

  Status CreateQueue() override {
    std::string request = Action("CreateQueue");
    AppendParam("QueueName", queue_, &request);
    Status s = Call(std::move(request));
    return IsQueueExists(s) ? Status::Ok() : s;
  }

  Status OpenQueue() override {
    std::string request = Action("GetQueueUrl");
    AppendParam("QueueName", queue_, &request);
    if (Status s = Call(std::move(request)); !s.ok()) return s;
    const auto url = Element(answer_, "QueueUrl");
    if (!url) return Malformed("GetQueueUrl answered no QueueUrl");
    queue_url_ = XmlUnescape(*url);
    return Status::Ok();
  }

  Status SendMessage(const std::string& body) override {
    std::string request = Action("SendMessage");
    AppendParam("QueueUrl", queue_url_, &request);
    AppendParam("MessageBody", body, &request);
    return Call(std::move(request));
  }

  Status SendMessageBatch(int count, const std::string& body) override {
    if (batch_count_ != count || batch_body_ != body) {
      batch_request_ = Action("SendMessageBatch");
      AppendParam("QueueUrl", queue_url_, &batch_request_);
      for (int i = 1; i <= count; ++i) {
        const std::string entry = "SendMessageBatchRequestEntry." + std::to_string(i);
        AppendParam(entry + ".Id", std::to_string(i - 1), &batch_request_);
        AppendParam(entry + ".MessageBody", body, &batch_request_);
      }
      batch_count_ = count;
      batch_body_ = body;
    }
    if (Status s = Call(batch_request_); !s.ok()) return s;
    return CheckEntries("SendMessageBatchResultEntry", count);
  }

  Status ReceiveMessage(int max_messages, int wait_seconds,
                        std::vector<ReceivedMessage>* out) override {
    out->clear();
    std::string request = Action("ReceiveMessage");
    AppendParam("QueueUrl", queue_url_, &request);
    AppendParam("MaxNumberOfMessages", std::to_string(max_messages), &request);
    AppendParam("WaitTimeSeconds", std::to_string(wait_seconds), &request);
    if (Status s = Call(std::move(request)); !s.ok()) return s;
    size_t from = 0;
    while (const auto m = NextElement(answer_, "Message", &from)) {
      const auto handle = Element(*m, "ReceiptHandle");
      const auto body = Element(*m, "Body");
      if (!handle || !body) return Malformed("a message without ReceiptHandle or Body");
      out->push_back({XmlUnescape(Element(*m, "MessageId").value_or("")), XmlUnescape(*handle),
                      XmlUnescape(*body).size()});
    }
    return Status::Ok();
  }

  Status DeleteMessage(const std::string& receipt_handle) override {
    std::string request = Action("DeleteMessage");
    AppendParam("QueueUrl", queue_url_, &request);
    AppendParam("ReceiptHandle", receipt_handle, &request);
    return Call(std::move(request));
  }

  Status DeleteMessageBatch(const std::vector<ReceivedMessage>& messages) override {
    std::string request = Action("DeleteMessageBatch");
    AppendParam("QueueUrl", queue_url_, &request);
    for (size_t i = 1; i <= messages.size(); ++i) {
      const std::string entry = "DeleteMessageBatchRequestEntry." + std::to_string(i);
      AppendParam(entry + ".Id", std::to_string(i - 1), &request);
      AppendParam(entry + ".ReceiptHandle", messages[i - 1].receipt_handle, &request);
    }
    if (Status s = Call(std::move(request)); !s.ok()) return s;
    return CheckEntries("DeleteMessageBatchResultEntry", static_cast<int>(messages.size()));
  }

 private:
  static std::string Action(std::string_view op) {
    return "Action=" + std::string(op) + "&Version=2012-11-05";
  }

  // POSTs the form; answer_ then holds the success answer's XML.
  Status Call(std::string request) {
    int status = 0;
    if (Status s = http_.Post(kContentType, "", std::move(request), &status, &answer_); !s.ok()) {
      return s;
    }
    if (status == 200) return Status::Ok();
    const auto code = Element(answer_, "Code");
    if (!code) return Malformed("HTTP " + std::to_string(status) + ": " + answer_.substr(0, 200));
    return SqsError(status, XmlUnescape(*code),
                    XmlUnescape(Element(answer_, "Message").value_or("")));
  }

  // The first BatchResultErrorEntry, or `ok_tag` entries that do not add up.
  Status CheckEntries(std::string_view ok_tag, int count) const {
    if (const auto e = Element(answer_, "BatchResultErrorEntry")) {
      Status s = SqsError(200, XmlUnescape(Element(*e, "Code").value_or("?")),
                          XmlUnescape(Element(*e, "Message").value_or("")));
      return Status(s.code(),
                    "entry " + XmlUnescape(Element(*e, "Id").value_or("?")) + ": " + s.detail());
    }
    int ok = 0;
    size_t from = 0;
    while (NextElement(answer_, ok_tag, &from)) ++ok;
    if (ok != count) {
      return Status(StatusCode::kInternalError,
                    std::to_string(ok) + " entries answered of " + std::to_string(count));
    }
    return Status::Ok();
  }

  HttpConnection http_;
  const std::string queue_;
  std::string queue_url_;  // from OpenQueue
  std::string answer_;     // the last answer's body
  int batch_count_ = 0;    // batch_request_ holds this many of batch_body_
  std::string batch_body_;
  std::string batch_request_;
};

}  // namespace

std::unique_ptr<BenchClient> NewQueryClient(const std::string& endpoint, const std::string& queue) {
  return std::make_unique<QueryClient>(endpoint, queue);
}

}  // namespace sluice::bench
