// The HTTP targets' seeds. sqs_decode: calls in both protocols, the way
// botocore sends them (../shared/sqs-http-api.md), one or more per operation
// that has members worth decoding. http_request: whole requests as clients
// write them: the query protocol by POST and by GET, the JSON protocol
// signed with SigV4 (by the credential and at the time the target checks
// against, so that the signature verifies), an S3 event push, and two
// requests on one keep-alive connection, the second with a chunked body.
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/sigv4.h"
#include "tests/fuzz/seeds.h"

namespace sluice::fuzz {
namespace {

constexpr char kQueueUrl[] = "http://127.0.0.1:9324/000000000000/q";
constexpr char kFifoUrl[] = "http://127.0.0.1:9324/000000000000/f.fifo";
constexpr char kAmzDate[] = "20240101T000000Z";  // http_request_target.cc's kNow

using Headers = std::vector<std::pair<std::string, std::string>>;

// A request as written on the wire; signed by the fuzz credential when
// `sign`, over every header given.
std::string Http(const std::string& method, const std::string& target, Headers headers,
                 const std::string& body, bool sign) {
  headers.insert(headers.begin(), {"Host", "127.0.0.1:9324"});
  if (sign) {
    headers.emplace_back("X-Amz-Date", kAmzDate);
    sigv4::HttpRequestView view;
    view.method = method;
    view.target = target;
    for (const auto& [name, value] : headers) view.headers.emplace_back(name, value);
    view.body = body;
    sigv4::SigningParams params;
    params.access_key_id = "AKIDFUZZ";
    params.secret = "fuzz-secret";
    params.region = "us-east-1";
    params.service = "sqs";
    params.amz_date = kAmzDate;
    headers.emplace_back("Authorization", sigv4::AuthorizationHeader(view, params));
  }
  std::string out = method + " " + target + " HTTP/1.1\r\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  if (!body.empty() || method == "POST")
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return out + "\r\n" + body;
}

std::string Json(const std::string& action, const std::string& body, bool sign) {
  return Http(
      "POST", "/",
      {{"Content-Type", "application/x-amz-json-1.0"}, {"X-Amz-Target", "AmazonSQS." + action}},
      body, sign);
}

std::string Form(const std::string& body) {
  return Http("POST", "/", {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}},
              body, false);
}

const std::vector<std::pair<std::string, std::string>>& JsonCalls() {
  static const std::vector<std::pair<std::string, std::string>> calls = {
      {"CreateQueue",
       R"({"QueueName":"new.fifo","Attributes":{"FifoQueue":"true","VisibilityTimeout":"40",)"
       R"("RedrivePolicy":"{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:dlq\",)"
       R"(\"maxReceiveCount\":\"3\"}"},"tags":{"team":"a"}})"},
      {"SendMessage",
       std::string(R"({"QueueUrl":")") + kQueueUrl +
           R"(","MessageBody":"hello","DelaySeconds":1,"MessageAttributes":{"n":{"DataType":)"
           R"("Number","StringValue":"7"},"b":{"DataType":"Binary","BinaryValue":"AAEC"}},)"
           R"("MessageSystemAttributes":{"AWSTraceHeader":{"DataType":"String",)"
           R"("StringValue":"Root=1-5759e988-bd862e3fe1be46a994272793"}}})"},
      {"SendMessageBatch",
       std::string(R"({"QueueUrl":")") + kFifoUrl +
           R"(","Entries":[{"Id":"a","MessageBody":"x","MessageGroupId":"g"},)"
           R"({"Id":"b","MessageBody":"y","MessageGroupId":"g","MessageDeduplicationId":"d"}]})"},
      {"ReceiveMessage",
       std::string(R"({"QueueUrl":")") + kQueueUrl +
           R"(","MaxNumberOfMessages":10,"VisibilityTimeout":"20","WaitTimeSeconds":0,)"
           R"("AttributeNames":["All"],"MessageSystemAttributeNames":["SentTimestamp"],)"
           R"("MessageAttributeNames":["n",".*"],"ReceiveRequestAttemptId":"r1"})"},
      {"DeleteMessageBatch", std::string(R"({"QueueUrl":")") + kQueueUrl +
                                 R"(","Entries":[{"Id":"1","ReceiptHandle":"h"}]})"},
      {"ChangeMessageVisibility", std::string(R"({"QueueUrl":")") + kQueueUrl +
                                      R"(","ReceiptHandle":"h","VisibilityTimeout":"0"})"},
      {"ChangeMessageVisibilityBatch",
       std::string(R"({"QueueUrl":")") + kQueueUrl +
           R"(","Entries":[{"Id":"1","ReceiptHandle":"h","VisibilityTimeout":5}]})"},
      {"GetQueueAttributes",
       std::string(R"({"QueueUrl":")") + kQueueUrl + R"(","AttributeNames":["All"]})"},
      {"SetQueueAttributes",
       std::string(R"({"QueueUrl":")") + kQueueUrl + R"(","Attributes":{"DelaySeconds":"3"}})"},
      {"ListQueues", R"({"QueueNamePrefix":"q","MaxResults":5,"NextToken":"a"})"},
      {"GetQueueUrl", R"({"QueueName":"q","QueueOwnerAWSAccountId":"000000000000"})"},
      {"TagQueue", std::string(R"({"QueueUrl":")") + kQueueUrl + R"(","Tags":{"k":"v"}})"},
      {"UntagQueue", std::string(R"({"QueueUrl":")") + kQueueUrl + R"(","TagKeys":["k"]})"},
      {"StartMessageMoveTask", R"({"SourceArn":"arn:aws:sqs:us-east-1:000000000000:dlq",)"
                               R"("DestinationArn":"arn:aws:sqs:us-east-1:000000000000:q",)"
                               R"("MaxNumberOfMessagesPerSecond":10})"},
      {"ListMessageMoveTasks",
       R"({"SourceArn":"arn:aws:sqs:us-east-1:000000000000:dlq","MaxResults":10})"},
      {"CancelMessageMoveTask", R"({"TaskHandle":"eyJ0YXNrSWQiOiIxIn0="})"},
      {"ListDeadLetterSourceQueues", std::string(R"({"QueueUrl":")") +
                                         "http://127.0.0.1:9324/000000000000/dlq" +
                                         R"(","MaxResults":10})"},
      {"PurgeQueue", "{}"},
  };
  return calls;
}

const std::vector<std::pair<std::string, std::string>>& QueryCalls() {
  static const std::vector<std::pair<std::string, std::string>> calls = {
      {"query_send_message_batch",
       "Action=SendMessageBatch&Version=2012-11-05&QueueUrl=http%3A%2F%2F127.0.0.1%3A9324%2F"
       "000000000000%2Fq&SendMessageBatchRequestEntry.1.Id=a"
       "&SendMessageBatchRequestEntry.1.MessageBody=x+y%0D%0A"
       "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=n"
       "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=Number"
       "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue=7"
       "&SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2.MessageBody=y"
       "&SendMessageBatchRequestEntry.2.DelaySeconds=3"},
      {"query_create_queue",
       "Action=CreateQueue&QueueName=made&Attribute.1.Name=VisibilityTimeout"
       "&Attribute.1.Value=5&Attribute.2.Name=MaximumMessageSize&Attribute.2.Value=2048"
       "&Tag.1.Key=team&Tag.1.Value=a"},
      {"query_receive_message",
       "Action=ReceiveMessage&QueueUrl=http%3A%2F%2F127.0.0.1%3A9324%2F000000000000%2Fq"
       "&MaxNumberOfMessages=10&AttributeName.1=All&MessageAttributeName.1=All"},
      {"query_delete_message_batch",
       "Action=DeleteMessageBatch&DeleteMessageBatchRequestEntry.1.Id=1"
       "&DeleteMessageBatchRequestEntry.1.ReceiptHandle=h"},
      {"query_change_visibility_batch",
       "Action=ChangeMessageVisibilityBatch&ChangeMessageVisibilityBatchRequestEntry.1.Id=1"
       "&ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle=h"
       "&ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout=9"},
      {"query_untag_queue", "Action=UntagQueue&TagKey.1=team&TagKey.2=env"},
      {"query_get_queue_attributes",
       "Action=GetQueueAttributes&AttributeName.1=ApproximateNumberOfMessages"
       "&AttributeName.2=QueueArn"},
  };
  return calls;
}

void SqsDecodeSeeds(const std::filesystem::path& dir) {
  for (const auto& [action, body] : JsonCalls()) {
    WriteSeed(dir, "sqs_decode", "json_" + action, action + "\n" + body);
  }
  for (const auto& [name, form] : QueryCalls()) WriteSeed(dir, "sqs_decode", name, form);
}

void HttpRequestSeeds(const std::filesystem::path& dir) {
  const auto& json = JsonCalls();
  WriteSeed(dir, "http_request", "json_send_message_signed",
            Json(json[1].first, json[1].second, true));
  WriteSeed(dir, "http_request", "json_receive_message_signed",
            Json(json[3].first, json[3].second, true));
  WriteSeed(dir, "http_request", "json_create_queue", Json(json[0].first, json[0].second, false));
  WriteSeed(dir, "http_request", "query_send_message_batch", Form(QueryCalls()[0].second));
  WriteSeed(dir, "http_request", "query_get_to_queue_url",
            Http("GET",
                 "/000000000000/q?Action=GetQueueAttributes&AttributeName.1=All"
                 "&Version=2012-11-05",
                 {}, "", false));
  WriteSeed(dir, "http_request", "query_post_to_queue_url_signed",
            Http("POST", "/000000000000/q",
                 {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}},
                 "Action=SendMessage&MessageBody=signed&DelaySeconds=0", true));
  WriteSeed(dir, "http_request", "s3_event_push",
            Http("POST", "/s3-events/q?token=fuzz-token", {{"Content-Type", "application/json"}},
                 R"({"Records":[{"eventVersion":"2.2","eventSource":"ceph:s3",)"
                 R"("eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"photos"},)"
                 R"("object":{"key":"pending/a b.jpg","eTag":"abc","sequencer":"1"}}}]})",
                 false));
  // Keep-alive: a call, then one whose body comes chunked.
  const std::string chunked =
      "POST / HTTP/1.1\r\nHost: 127.0.0.1:9324\r\n"
      "Content-Type: application/x-amz-json-1.0\r\nX-Amz-Target: AmazonSQS.ListQueues\r\n"
      "Transfer-Encoding: chunked\r\n\r\n"
      "5\r\n{\"Max\r\n"
      "f\r\nResults\":1}    \r\n"
      "0\r\n\r\n";
  WriteSeed(dir, "http_request", "keep_alive_then_chunked",
            Json("GetQueueUrl", R"({"QueueName":"f.fifo"})", false) + chunked);
}

}  // namespace

void MakeHttpSeeds(const std::filesystem::path& dir) {
  SqsDecodeSeeds(dir);
  HttpRequestSeeds(dir);
}

}  // namespace sluice::fuzz
