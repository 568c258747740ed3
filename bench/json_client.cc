// Requests are rendered with nlohmann-json except the send batch, rendered
// once per count and reused: its ten bodies are the same on every call, and
// the load generator's CPU is taken from the broker's two cores.
#include "bench/json_client.h"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/http_connection.h"
#include "bench/sqs_error.h"

namespace sluice::bench {
namespace {

using nlohmann::json;

constexpr std::string_view kContentType = "application/x-amz-json-1.0";

class JsonClient : public BenchClient {
 public:
  JsonClient(const std::string& endpoint, const std::string& queue)
      : http_(endpoint), queue_(queue) {}

  Status CreateQueue() override {
    json answer;
    Status s = Call("CreateQueue", json{{"QueueName", queue_}}.dump(), &answer);
    return IsQueueExists(s) ? Status::Ok() : s;
  }

  Status OpenQueue() override {
    json answer;
    if (Status s = Call("GetQueueUrl", json{{"QueueName", queue_}}.dump(), &answer); !s.ok()) {
      return s;
    }
    if (!answer.contains("QueueUrl") || !answer["QueueUrl"].is_string()) {
      return Malformed("GetQueueUrl answered no QueueUrl");
    }
    queue_url_ = answer["QueueUrl"].get<std::string>();
    return Status::Ok();
  }

  Status SendMessage(const std::string& body) override {
    json answer;
    return Call("SendMessage", json{{"QueueUrl", queue_url_}, {"MessageBody", body}}.dump(),
                &answer);
  }

  Status SendMessageBatch(int count, const std::string& body) override {
    if (batch_count_ != count || batch_body_ != body) {
      json entries = json::array();
      for (int i = 0; i < count; ++i) {
        entries.push_back({{"Id", std::to_string(i)}, {"MessageBody", body}});
      }
      batch_request_ = json{{"QueueUrl", queue_url_}, {"Entries", entries}}.dump();
      batch_count_ = count;
      batch_body_ = body;
    }
    json answer;
    if (Status s = Call("SendMessageBatch", batch_request_, &answer); !s.ok()) return s;
    return CheckEntries(answer, count);
  }

  Status ReceiveMessage(int max_messages, int wait_seconds,
                        std::vector<ReceivedMessage>* out) override {
    out->clear();
    json answer;
    Status s = Call("ReceiveMessage",
                    json{{"QueueUrl", queue_url_},
                         {"MaxNumberOfMessages", max_messages},
                         {"WaitTimeSeconds", wait_seconds}}
                        .dump(),
                    &answer);
    if (!s.ok()) return s;
    if (!answer.contains("Messages")) return Status::Ok();  // none arrived
    if (!answer["Messages"].is_array()) return Malformed("Messages is not a list");
    for (const json& m : answer["Messages"]) {
      if (!m.is_object() || !m.value("ReceiptHandle", json()).is_string() ||
          !m.value("Body", json()).is_string()) {
        return Malformed("a message without ReceiptHandle or Body");
      }
      out->push_back({m.value("MessageId", ""), m["ReceiptHandle"].get<std::string>(),
                      m["Body"].get_ref<const std::string&>().size()});
    }
    return Status::Ok();
  }

  Status DeleteMessage(const std::string& receipt_handle) override {
    json answer;
    return Call("DeleteMessage",
                json{{"QueueUrl", queue_url_}, {"ReceiptHandle", receipt_handle}}.dump(), &answer);
  }

  Status DeleteMessageBatch(const std::vector<ReceivedMessage>& messages) override {
    json entries = json::array();
    for (size_t i = 0; i < messages.size(); ++i) {
      entries.push_back({{"Id", std::to_string(i)}, {"ReceiptHandle", messages[i].receipt_handle}});
    }
    json answer;
    Status s = Call("DeleteMessageBatch",
                    json{{"QueueUrl", queue_url_}, {"Entries", entries}}.dump(), &answer);
    if (!s.ok()) return s;
    return CheckEntries(answer, static_cast<int>(messages.size()));
  }

 private:
  static Status Malformed(const std::string& what) {
    return Status(StatusCode::kInternalError, "malformed answer: " + what);
  }

  // POSTs `request` as AmazonSQS.<op>; *answer is the parsed success answer
  // (an empty object when its body is empty).
  Status Call(std::string_view op, std::string request, json* answer) {
    int status = 0;
    const std::string target = "AmazonSQS." + std::string(op);
    Status s = http_.Post(kContentType, target, std::move(request), &status, &answer_);
    if (!s.ok()) return s;
    *answer = answer_.empty() ? json::object() : json::parse(answer_, nullptr, false);
    if (answer->is_discarded() || !answer->is_object()) {
      return Malformed("HTTP " + std::to_string(status) +
                       " with a body that is not JSON: " + answer_.substr(0, 200));
    }
    if (status != 200) {
      return SqsError(status, answer->value("__type", "?"), answer->value("message", ""));
    }
    return Status::Ok();
  }

  // The first Failed entry, or a Successful list that does not add up.
  static Status CheckEntries(const json& answer, int count) {
    const json failed = answer.value("Failed", json::array());
    if (!failed.empty()) {
      const json& e = failed[0];
      Status s = SqsError(200, e.value("Code", "?"), e.value("Message", ""));
      return Status(s.code(), "entry " + e.value("Id", "?") + ": " + s.detail());
    }
    const size_t ok = answer.value("Successful", json::array()).size();
    if (ok != static_cast<size_t>(count)) {
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

std::unique_ptr<BenchClient> NewJsonClient(const std::string& endpoint, const std::string& queue) {
  return std::make_unique<JsonClient>(endpoint, queue);
}

}  // namespace sluice::bench
