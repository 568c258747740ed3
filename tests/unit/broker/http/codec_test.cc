// The SQS HTTP protocols' codecs: a query-protocol call as botocore 1.29
// sends it decodes into the same Request as its JSON-protocol twin; answers
// encode as ../shared/sqs-http-api.md shows them; errors carry AWS's codes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "broker/http/api_error.h"
#include "broker/http/form.h"
#include "broker/http/query_params.h"
#include "broker/http/request_decoder.h"
#include "broker/http/response_encoder.h"
#include "common/wire_error.h"

namespace sluice::http {
namespace {

using json = nlohmann::json;

// Decodes `params` as the JSON text a call carries.
Result<DecodedRequest, ApiError> Decode(std::string_view action, const json& params,
                                        std::string_view path_queue) {
  return DecodeRequest(action, params.dump(), path_queue);
}

json Query(const std::string& body) {
  Result<FormParams> form = ParseForm(body);
  EXPECT_TRUE(form.ok()) << form.status().detail();
  Result<json> params = QueryParamsToJson(*form);
  EXPECT_TRUE(params.ok()) << params.status().detail();
  return *params;
}

TEST(FormTest, DecodesPlusPercentAndBareNames) {
  Result<FormParams> form = ParseForm("a=x+y%2Bz%0D%0A&Entries=&b&=v&&c=%E2%82%AC");
  ASSERT_TRUE(form.ok());
  EXPECT_EQ(*form,
            (FormParams{
                {"a", "x y+z\r\n"}, {"Entries", ""}, {"b", ""}, {"", "v"}, {"c", "\xE2\x82\xAC"}}));
}

TEST(FormTest, MalformedPercentEncodingIsAnErrorThatSaysWhere) {
  for (const char* bad : {"a=%zz", "a=%4", "a=%"}) {
    Result<FormParams> form = ParseForm(bad);
    ASSERT_FALSE(form.ok()) << bad;
    EXPECT_EQ(form.status().code(), StatusCode::kMalformedRequest);
    EXPECT_NE(form.status().detail().find("byte"), std::string::npos);
  }
}

TEST(QueryParamsTest, RebuildsTheJsonShapeOfEveryFlattenedCollection) {
  const json params = Query(
      "Action=SendMessageBatch&QueueUrl=http%3A%2F%2Fh%2F0%2Fq"
      "&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=x"
      "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=n"
      "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=Number"
      "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue=7"
      "&SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2.MessageBody=y"
      "&SendMessageBatchRequestEntry.2.DelaySeconds=3");
  EXPECT_EQ(params, json::parse(R"({
    "Action": "SendMessageBatch", "QueueUrl": "http://h/0/q",
    "Entries": [
      {"Id": "a", "MessageBody": "x",
       "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "7"}}},
      {"Id": "b", "MessageBody": "y", "DelaySeconds": "3"}]})"));
}

TEST(QueryParamsTest, MapsListsAndEmptyLists) {
  EXPECT_EQ(Query("Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=5&Attribute.2.Name=D"
                  "&Attribute.2.Value=0&Tag.1.Key=team&Tag.1.Value=photos&TagKey.1=a&TagKey.2=b"
                  "&AttributeName.1=All&Entries="),
            json::parse(R"({"Attributes": {"VisibilityTimeout": "5", "D": "0"},
                            "Tags": {"team": "photos"}, "TagKeys": ["a", "b"],
                            "AttributeNames": ["All"], "Entries": []})"));
}

TEST(QueryParamsTest, AnIndexThatIsNotAPositiveNumberIsMalformed) {
  for (const char* bad : {"Attribute.x.Name=a", "Attribute.0.Name=a", "TagKey.-1=a"}) {
    Result<json> params = QueryParamsToJson(*ParseForm(bad));
    ASSERT_FALSE(params.ok()) << bad;
    EXPECT_EQ(params.status().code(), StatusCode::kMalformedRequest);
  }
}

// Found by the fuzzer (tests/fuzz/regressions/sqs_decode/): an entry named
// without its value threw from std::string, which dropped the connection.
TEST(QueryParamsTest, AnEntryWithoutItsValueIsEmptyOrNull) {
  EXPECT_EQ(Query("MessageAttribute.1.Name=n&Attribute.1.Name=a"),
            json::parse(R"({"MessageAttributes": {"n": null}, "Attributes": {"a": ""}})"));
  auto d = Decode("SendMessage", Query("MessageBody=x&MessageAttribute.1.Name=n"), "q");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().http_status, 400);
}

// Found by the fuzzer (tests/fuzz/regressions/sqs_decode/): "TagKeys.x"
// made TagKeys an object, and TagKey.1 then threw pushing onto it.
TEST(QueryParamsTest, NumberedMembersWinOverTheirCollectionsName) {
  EXPECT_EQ(Query("TagKeys.a=x&TagKey.1=k&TagKey.2=l"), json::parse(R"({"TagKeys": ["k", "l"]})"));
  EXPECT_EQ(Query("Entries.x=1&SendMessageBatchRequestEntry.1.Id=a"),
            json::parse(R"({"Entries": [{"Id": "a"}]})"));
  EXPECT_EQ(Query("TagKeys=x&TagKey.1=k"), json::parse(R"({"TagKeys": ["k"]})"));
}

// Found by the fuzzer (tests/fuzz/regressions/http_request/): each dot of a
// name nested one call deeper, and one request of a million dots took the
// broker's stack.
TEST(QueryParamsTest, NamesNestAtMostSixteenDeep) {
  Result<json> deep = QueryParamsToJson({{"a" + std::string(1'000'000, '.'), "1"}});
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.status().code(), StatusCode::kMalformedRequest);
  EXPECT_TRUE(QueryParamsToJson({{"a" + std::string(15, '.'), "1"}}).ok());
  EXPECT_FALSE(QueryParamsToJson({{"a" + std::string(16, '.'), "1"}}).ok());
}

TEST(DecodeRequestTest, QueryAndJsonCallsDecodeAlike) {
  const json query = Query(
      "Action=SendMessage&QueueUrl=http%3A%2F%2Felsewhere%3A1%2F123%2Fjobs&MessageBody=hi"
      "&DelaySeconds=5&MessageAttribute.1.Name=b&MessageAttribute.1.Value.DataType=Binary"
      "&MessageAttribute.1.Value.BinaryValue=AAE%3D&MessageGroupId=g");
  const json json_call = json::parse(R"({"QueueUrl": "http://h:9324/000000000000/jobs",
      "MessageBody": "hi", "DelaySeconds": 5, "MessageGroupId": "g",
      "MessageAttributes": {"b": {"DataType": "Binary", "BinaryValue": "AAE="}}})");
  auto a = Decode("SendMessage", query, "");
  auto b = Decode("SendMessage", json_call, "");
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(a->request.SerializeAsString(), b->request.SerializeAsString());
  const pb::SendMessageRequest& m = a->request.send_message();
  EXPECT_EQ(m.queue_name(), "jobs");
  EXPECT_EQ(m.entry().body(), "hi");
  EXPECT_EQ(m.entry().delay_seconds(), 5);
  EXPECT_EQ(m.entry().message_attributes().at("b").binary_value(), std::string("\0\1", 2));
}

TEST(DecodeRequestTest, TheQueueOfThePathServesCallsWithoutQueueUrl) {
  auto d = Decode("PurgeQueue", json::object(), "jobs");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->request.purge_queue().queue_name(), "jobs");
  auto missing = Decode("PurgeQueue", json::object(), "");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().query_code, "MissingParameter");
}

TEST(DecodeRequestTest, UnknownActionsAndPermissionsAreClearErrors) {
  auto unknown = Decode("FlyToTheMoon", json::object(), "");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().query_code, "InvalidAction");
  EXPECT_EQ(unknown.error().http_status, 400);
  auto permission = Decode("AddPermission", json::object(), "q");
  ASSERT_FALSE(permission.ok());
  EXPECT_EQ(permission.error().query_code, "AWS.SimpleQueueService.UnsupportedOperation");
}

TEST(DecodeRequestTest, BadParameterValuesNameTheParameter) {
  auto not_int = Decode("ReceiveMessage", json{{"QueueUrl", "q"}, {"WaitTimeSeconds", "x"}}, "");
  ASSERT_FALSE(not_int.ok());
  EXPECT_EQ(not_int.error().query_code, "InvalidParameterValue");
  EXPECT_NE(not_int.error().message.find("WaitTimeSeconds"), std::string::npos);
  auto too_many =
      Decode("ReceiveMessage", json{{"QueueUrl", "q"}, {"MaxNumberOfMessages", 11}}, "");
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().query_code, "InvalidParameterValue");
  auto not_base64 = Decode("SendMessage", json::parse(R"({"QueueUrl": "q", "MessageBody": "x",
                      "MessageAttributes": {"b": {"DataType": "Binary", "BinaryValue": "*"}}})"),
                           "");
  ASSERT_FALSE(not_base64.ok());
  auto no_body = Decode("SendMessage", json{{"QueueUrl", "q"}}, "");
  ASSERT_FALSE(no_body.ok());
  EXPECT_EQ(no_body.error().query_code, "MissingParameter");
}

TEST(DecodeRequestTest, ABodyThatIsNotAJsonObjectIsASerializationError) {
  for (const char* body : {"{\"QueueUrl\":", "[1, 2]", "not json", "\"string\""}) {
    auto d = DecodeRequest("PurgeQueue", body, "q");
    ASSERT_FALSE(d.ok()) << body;
    EXPECT_EQ(d.error().query_code, "SerializationException") << body;
    EXPECT_EQ(d.error().http_status, 400);
  }
  // An empty body is an empty object: the queue comes from the path.
  auto empty = DecodeRequest("PurgeQueue", "", "q");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->request.purge_queue().queue_name(), "q");
}

TEST(DecodeRequestTest, SystemAttributesGiveTheirMd5) {
  // AWSTraceHeader "Root=1" hashed with SQS's attribute algorithm.
  auto d = Decode("SendMessage",
                  json::parse(R"({"QueueUrl": "q", "MessageBody": "x", "MessageSystemAttributes":
          {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1"}}})"),
                  "");
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(d->system_attributes_md5.contains(""));
  EXPECT_EQ(d->system_attributes_md5.at("").size(), 32u);
  auto other = Decode(
      "SendMessage", json::parse(R"({"QueueUrl": "q", "MessageBody": "x", "MessageSystemAttributes":
          {"Other": {"DataType": "String", "StringValue": "v"}}})"),
      "");
  EXPECT_FALSE(other.ok());
}

TEST(EncodeTest, ReceiveAnswerInBothProtocols) {
  DecodedRequest call;
  call.request.mutable_receive_message()->set_queue_name("q");
  pb::Response resp;
  pb::Message* m = resp.mutable_receive_message()->add_messages();
  m->set_message_id("id-1");
  m->set_receipt_handle("rh");
  m->set_md5_of_body("md5");
  m->set_body("a\r\n<b>&");
  (*m->mutable_attributes())["SentTimestamp"] = "1700000000000";
  pb::MessageAttributeValue& v = (*m->mutable_message_attributes())["bin"];
  v.set_data_type("Binary");
  v.set_binary_value(std::string("\0\1", 2));
  const SqsJson result = EncodeResult(call, resp, "http://h/0/");
  EXPECT_EQ(result["Messages"][0]["Body"], "a\r\n<b>&");
  EXPECT_EQ(result["Messages"][0]["MessageAttributes"]["bin"]["BinaryValue"], "AAE=");
  const std::string xml = RenderXml("ReceiveMessage", result, "req-1");
  EXPECT_NE(xml.find("<ReceiveMessageResult><Message>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<Body>a&#xD;\n&lt;b&gt;&amp;</Body>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<Attribute><Name>SentTimestamp</Name><Value>1700000000000</Value>"
                     "</Attribute>"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<MessageAttribute><Name>bin</Name><Value><BinaryValue>AAE=</BinaryValue>"
                     "<DataType>Binary</DataType></Value></MessageAttribute>"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<RequestId>req-1</RequestId>"), std::string::npos);
}

TEST(EncodeTest, AnEmptyReceiveStillHasItsResultElement) {
  DecodedRequest call;
  pb::Response resp;
  resp.mutable_receive_message();
  const std::string xml = RenderXml("ReceiveMessage", EncodeResult(call, resp, "p/"), "r");
  EXPECT_NE(xml.find("<ReceiveMessageResult></ReceiveMessageResult>"), std::string::npos) << xml;
  // An operation without output has no Result element, but is well-formed.
  const std::string none = RenderXml("DeleteQueue", SqsJson::object(), "r");
  EXPECT_EQ(none.find("Result"), std::string::npos);
  EXPECT_NE(none.find("<DeleteQueueResponse"), std::string::npos);
}

TEST(EncodeTest, QueueUrlsAndBatchEntriesFlatten) {
  DecodedRequest call;
  pb::Response resp;
  resp.mutable_list_queues()->add_queue_names("a");
  resp.mutable_list_queues()->add_queue_names("b");
  const SqsJson list = EncodeResult(call, resp, "http://h:1/000000000000/");
  EXPECT_EQ(list["QueueUrls"], SqsJson::parse(R"(["http://h:1/000000000000/a",
                                              "http://h:1/000000000000/b"])"));
  EXPECT_NE(RenderXml("ListQueues", list, "r")
                .find("<QueueUrl>http://h:1/000000000000/a</QueueUrl><QueueUrl>"),
            std::string::npos);

  pb::Response batch;
  batch.mutable_delete_message_batch()->add_successful()->set_id("ok");
  pb::BatchResultError* failed = batch.mutable_delete_message_batch()->add_failed();
  failed->set_id("bad");
  failed->set_code(ToWire(StatusCode::kReceiptHandleIsInvalid));
  failed->set_detail("no such handle");
  failed->set_sender_fault(true);
  const SqsJson result = EncodeResult(call, batch, "p/");
  EXPECT_EQ(result["Failed"][0]["Code"], "ReceiptHandleIsInvalid");
  const std::string xml = RenderXml("DeleteMessageBatch", result, "r");
  EXPECT_NE(xml.find("<DeleteMessageBatchResultEntry><Id>ok</Id></DeleteMessageBatchResultEntry>"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<BatchResultErrorEntry><Id>bad</Id><SenderFault>true</SenderFault>"
                     "<Code>ReceiptHandleIsInvalid</Code><Message>no such handle</Message>"
                     "</BatchResultErrorEntry>"),
            std::string::npos)
      << xml;
}

TEST(EncodeTest, GetQueueAttributesWithoutNamesAnswersNone) {
  DecodedRequest call;
  call.request.mutable_get_queue_attributes()->set_queue_name("q");
  pb::Response resp;
  (*resp.mutable_get_queue_attributes()->mutable_attributes())["VisibilityTimeout"] = "30";
  EXPECT_EQ(EncodeResult(call, resp, "p/"), SqsJson::object());
  call.request.mutable_get_queue_attributes()->add_attribute_names("All");
  EXPECT_EQ(EncodeResult(call, resp, "p/")["Attributes"]["VisibilityTimeout"], "30");
}

TEST(ApiErrorTest, CodesAreAwsNamesUnderBothProtocols) {
  const ApiError missing = ToApiError({StatusCode::kQueueDoesNotExist, "gone"});
  EXPECT_EQ(missing.query_code, "AWS.SimpleQueueService.NonExistentQueue");
  EXPECT_EQ(missing.shape, "QueueDoesNotExist");
  EXPECT_EQ(missing.http_status, 400);
  EXPECT_EQ(QueryErrorHeader(missing), "AWS.SimpleQueueService.NonExistentQueue;Sender");
  EXPECT_EQ(json::parse(RenderJsonError(missing)),
            json::parse(R"({"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "gone"})"));
  const std::string xml = RenderXmlError(missing, "r-1");
  EXPECT_NE(xml.find("<Error><Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue"
                     "</Code><Message>gone</Message><Detail/></Error><RequestId>r-1</RequestId>"),
            std::string::npos)
      << xml;
  EXPECT_EQ(ToApiError({StatusCode::kQueueNameExists, "x"}).query_code, "QueueAlreadyExists");
  EXPECT_EQ(ToApiError({StatusCode::kOverLimit, "x"}).http_status, 403);
}

// Found by the fuzzer (tests/fuzz/regressions/sqs_decode/): an error quoting
// a client's bytes (an action named "\r2\0") made XML no parser reads.
TEST(ApiErrorTest, XmlCarriesOnlyXmlCharacters) {
  std::string out;
  AppendXmlEscaped(
      "a\x01"
      "b\xff\xc3\xa9\xed\xa0\x80\xef\xbf\xbe\r\n\t&<\xf0\x9f\x90\x8d",
      &out);
  EXPECT_EQ(out,
            "a\uFFFDb\uFFFD\u00e9\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD&#xD;\n\t&amp;&lt;\U0001F40D");
  const std::string xml = RenderXmlError(InvalidAction(std::string("\r2\0", 3)), "r-1");
  EXPECT_EQ(xml.find('\0'), std::string::npos) << xml;
  EXPECT_NE(xml.find("&#xD;2\uFFFD"), std::string::npos) << xml;
}

TEST(ApiErrorTest, NoClientMistakeIsA5xx) {
  for (int c = static_cast<int>(StatusCode::kMalformedRequest);
       c <= static_cast<int>(StatusCode::kUnsupportedOperation); ++c) {
    const ApiError e = ToApiError({static_cast<StatusCode>(c), "x"});
    EXPECT_LT(e.http_status, 500) << e.query_code;
    EXPECT_TRUE(e.sender_fault) << e.query_code;
    EXPECT_FALSE(e.message.empty());
  }
  EXPECT_EQ(ToApiError({StatusCode::kIOError, "disk"}).http_status, 500);
}

}  // namespace
}  // namespace sluice::http
