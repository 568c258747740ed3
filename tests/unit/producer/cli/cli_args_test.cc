// Unit tests of sluice-producer's argument parsing (aws shorthand, JSON,
// file://, base64, queue URLs) and of its aws-cli-shaped JSON output.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "common/base64.h"
#include "producer/cli/batch_entries.h"
#include "producer/cli/json_output.h"
#include "producer/cli/shorthand.h"
#include "producer/cli/urls.h"

namespace sluice {
namespace {

// Whether an error detail says what it should; a predicate rather than
// gmock's HasSubstr so that the test needs only GoogleTest.
::testing::AssertionResult Mentions(const std::string& detail, const std::string& part) {
  if (detail.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "\"" << detail << "\" does not mention \"" << part << "\"";
}

// --- aws shorthand and JSON maps ---

TEST(AttributeMapTest, Shorthand) {
  Result<AttributeMap> m = ParseAttributeMap("VisibilityTimeout=30,DelaySeconds=5");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(*m, (AttributeMap{{"DelaySeconds", "5"}, {"VisibilityTimeout", "30"}}));
}

TEST(AttributeMapTest, ShorthandTrimsSpacesAndKeepsEmptyValues) {
  Result<AttributeMap> m = ParseAttributeMap(" A = 1 , B= ");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(*m, (AttributeMap{{"A", "1"}, {"B", ""}}));
}

TEST(AttributeMapTest, ShorthandQuotedValueHoldsCommas) {
  Result<AttributeMap> m =
      ParseAttributeMap(R"(RedrivePolicy='{"a":"x","b":"5"}',DelaySeconds="1,2")");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->at("RedrivePolicy"), R"({"a":"x","b":"5"})");
  EXPECT_EQ(m->at("DelaySeconds"), "1,2");
}

TEST(AttributeMapTest, ShorthandErrors) {
  for (const char* bad : {"", "A", "A=1,", "A=1,,B=2", "=1", "A='1", "A='1'x", "A=1,A=2"}) {
    Result<AttributeMap> m = ParseAttributeMap(bad);
    EXPECT_FALSE(m.ok()) << bad;
    EXPECT_EQ(m.status().code(), StatusCode::kInvalidParameterValue) << bad;
  }
  EXPECT_TRUE(Mentions(ParseAttributeMap("A=1,A=2").status().detail(), "A is given twice"));
  EXPECT_TRUE(Mentions(ParseAttributeMap("A=1,B").status().detail(), "offset 4"));
}

TEST(AttributeMapTest, JsonValuesBecomeStrings) {
  Result<AttributeMap> m = ParseAttributeMap(
      R"( {"VisibilityTimeout": 30, "FifoQueue": true, "DelaySeconds": "5",
           "RedrivePolicy": {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq",
                             "maxReceiveCount": "5"}} )");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->at("VisibilityTimeout"), "30");
  EXPECT_EQ(m->at("FifoQueue"), "true");
  EXPECT_EQ(m->at("DelaySeconds"), "5");
  EXPECT_EQ(m->at("RedrivePolicy"),
            R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq",)"
            R"("maxReceiveCount":"5"})");
}

TEST(AttributeMapTest, JsonPolicyGivenAsStringIsKept) {
  Result<AttributeMap> m = ParseAttributeMap(R"({"RedrivePolicy": "{\"maxReceiveCount\":\"5\"}"})");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->at("RedrivePolicy"), R"({"maxReceiveCount":"5"})");
}

TEST(AttributeMapTest, JsonErrors) {
  EXPECT_TRUE(Mentions(ParseAttributeMap(R"({"A": null})").status().detail(), "null"));
  EXPECT_TRUE(Mentions(ParseAttributeMap(R"({"A": 1)").status().detail(), "invalid JSON"));
}

// --- list flags ---

TEST(StringListTest, WordsCommasAndJson) {
  Result<std::vector<std::string>> l =
      ParseStringList({"All", "A,B", " C , ,D", R"(["E","F"])", R"("G")"});
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(*l, (std::vector<std::string>{"All", "A", "B", "C", "D", "E", "F", "G"}));
}

TEST(StringListTest, EmptyAndErrors) {
  Result<std::vector<std::string>> l = ParseStringList({});
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(l->empty());
  EXPECT_TRUE(Mentions(ParseStringList({"[1]"}).status().detail(), "list of strings"));
  EXPECT_TRUE(Mentions(ParseStringList({"[\"A\""}).status().detail(), "invalid JSON"));
}

// --- file:// ---

TEST(ReadArgumentTextTest, PlainTextIsItself) {
  Result<std::string> t = ReadArgumentText("hello, file:// later");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, "hello, file:// later");
}

TEST(ReadArgumentTextTest, ReadsFile) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("cli_args_test_" + std::to_string(::getpid()));
  const std::string contents("[{\"Id\":\"a\"}]\n\0bytes", 19);
  std::ofstream(path, std::ios::binary) << contents;
  Result<std::string> t = ReadArgumentText("file://" + path.string());
  std::filesystem::remove(path);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t, contents);
}

TEST(ReadArgumentTextTest, MissingFile) {
  Result<std::string> t = ReadArgumentText("file:///nonexistent/sluice");
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(Mentions(t.status().detail(), "file:///nonexistent/sluice"));
}

// --- base64 ---

TEST(Base64Test, Rfc4648Vectors) {
  const std::vector<std::pair<std::string, std::string>> vectors = {{"", ""},
                                                                    {"f", "Zg=="},
                                                                    {"fo", "Zm8="},
                                                                    {"foo", "Zm9v"},
                                                                    {"foob", "Zm9vYg=="},
                                                                    {"fooba", "Zm9vYmE="},
                                                                    {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    Result<std::string> decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded;
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64Test, BinaryRoundTrip) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  Result<std::string> decoded = Base64Decode(Base64Encode(all));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, all);
}

TEST(Base64Test, RejectsMalformed) {
  for (const char* bad : {"Zg=", "Zg", "Z===", "=Zg=", "Zg==Zg==", "Zm9v\n", "Zm!v"}) {
    EXPECT_FALSE(Base64Decode(bad).ok()) << bad;
  }
}

// --- queue URLs and broker endpoints ---

TEST(UrlsTest, QueueUrlRoundTrip) {
  EXPECT_EQ(QueueUrl("tcp://127.0.0.1:7400", "jobs"), "tcp://127.0.0.1:7400/jobs");
  EXPECT_EQ(*QueueNameFromUrl("tcp://127.0.0.1:7400/jobs"), "jobs");
  EXPECT_EQ(*QueueNameFromUrl("https://sqs.us-east-1.amazonaws.com/123456789012/q.fifo"), "q.fifo");
  EXPECT_EQ(*QueueNameFromUrl("jobs"), "jobs");
  EXPECT_FALSE(QueueNameFromUrl("tcp://127.0.0.1:7400/").ok());
}

TEST(UrlsTest, BrokerEndpoints) {
  for (const char* good : {"tcp://127.0.0.1:7400", "tcp://broker.local:1", "tcp://[::1]:7400",
                           "tcp://*:65535", "ipc:///run/sluice.sock"}) {
    EXPECT_TRUE(CheckBrokerEndpoint(good).ok()) << good;
  }
  for (const char* bad : {"", "127.0.0.1:7400", "tcp://127.0.0.1", "tcp://:7400", "tcp://h:0",
                          "tcp://h:65536", "tcp://h:74x", "ipc://", "udp://h:1"}) {
    EXPECT_FALSE(CheckBrokerEndpoint(bad).ok()) << bad;
  }
}

// --- message attributes and batch entries ---

TEST(MessageAttributesTest, StringAndBinary) {
  pb::SendMessageEntry entry;
  Status s = ParseMessageAttributes(
      R"({"city": {"DataType": "String", "StringValue": "Paris"},
          "raw": {"DataType": "Binary.png", "BinaryValue": "AAEC/w=="}})",
      entry.mutable_message_attributes());
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(entry.message_attributes().size(), 2u);
  EXPECT_EQ(entry.message_attributes().at("city").data_type(), "String");
  EXPECT_EQ(entry.message_attributes().at("city").string_value(), "Paris");
  EXPECT_EQ(entry.message_attributes().at("raw").data_type(), "Binary.png");
  EXPECT_EQ(entry.message_attributes().at("raw").binary_value(),
            std::string("\x00\x01\x02\xff", 4));
}

TEST(MessageAttributesTest, Errors) {
  auto detail = [](const char* text) {
    pb::SendMessageEntry entry;
    return ParseMessageAttributes(text, entry.mutable_message_attributes()).detail();
  };
  EXPECT_TRUE(Mentions(detail(R"(["a"])"), "expected a JSON object"));
  EXPECT_TRUE(Mentions(detail(R"({"a": "x"})"), "a: expected an object"));
  EXPECT_TRUE(Mentions(detail(R"({"a": {"StringValue": "x"}})"), "a.DataType: missing"));
  EXPECT_TRUE(Mentions(detail(R"({"a": {"DataType": "Number", "StringValue": 1}})"),
                       "a.StringValue: expected a string"));
  EXPECT_TRUE(Mentions(detail(R"({"a": {"DataType": "String", "StringListValues": []}})"),
                       "a.StringListValues: unknown key"));
  EXPECT_TRUE(Mentions(detail(R"({"a": {"DataType": "Binary", "BinaryValue": "!!!!"}})"),
                       "a.BinaryValue: invalid base64"));
}

TEST(SendEntriesTest, AllKeys) {
  Result<std::vector<pb::SendMessageEntry>> e = ParseSendEntries(R"([
      {"Id": "a", "MessageBody": "one"},
      {"Id": "b", "MessageBody": "two", "DelaySeconds": 0, "MessageGroupId": "g",
       "MessageDeduplicationId": "d",
       "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "1"}}}])");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_EQ(e->size(), 2u);
  EXPECT_EQ((*e)[0].id(), "a");
  EXPECT_EQ((*e)[0].body(), "one");
  // Absent: the queue's delay, not zero.
  EXPECT_FALSE((*e)[0].has_delay_seconds());
  EXPECT_TRUE((*e)[1].has_delay_seconds());
  EXPECT_EQ((*e)[1].delay_seconds(), 0);
  EXPECT_EQ((*e)[1].message_group_id(), "g");
  EXPECT_EQ((*e)[1].message_deduplication_id(), "d");
  EXPECT_EQ((*e)[1].message_attributes().at("n").string_value(), "1");
}

TEST(SendEntriesTest, ErrorsNameTheEntryAndKey) {
  auto detail = [](const char* text) { return ParseSendEntries(text).status().detail(); };
  EXPECT_TRUE(Mentions(detail(R"({"Id": "a"})"), "expected a JSON list"));
  EXPECT_TRUE(
      Mentions(detail(R"([{"Id": "a", "MessageBody": "x"}, 5])"), "[1]: expected a JSON object"));
  EXPECT_TRUE(Mentions(detail(R"([{"MessageBody": "x"}])"), "[0].Id: missing"));
  EXPECT_TRUE(Mentions(detail(R"([{"Id": "a"}])"), "[0].MessageBody: missing"));
  EXPECT_TRUE(Mentions(detail(R"([{"Id": 1, "MessageBody": "x"}])"), "[0].Id: expected a string"));
  EXPECT_TRUE(Mentions(detail(R"([{"Id": "a", "MessageBody": "x", "Body": "y"}])"),
                       "[0].Body: unknown key"));
  EXPECT_TRUE(Mentions(detail(R"([{"Id": "a", "MessageBody": "x", "DelaySeconds": "5"}])"),
                       "[0].DelaySeconds: expected a 32-bit integer"));
  EXPECT_TRUE(Mentions(detail(R"([{"Id": "a", "MessageBody": "x", "DelaySeconds": 1.5}])"),
                       "[0].DelaySeconds"));
  EXPECT_TRUE(Mentions(detail(R"([{"Id": "a", "MessageBody": "x", "DelaySeconds": 4294967296}])"),
                       "[0].DelaySeconds"));
  EXPECT_TRUE(Mentions(
      detail(R"([{"Id": "a", "MessageBody": "x", "MessageAttributes": {"n": {"DataType": 1}}}])"),
      "[0].MessageAttributes.n.DataType: expected a string"));
  EXPECT_TRUE(Mentions(detail("[{"), "invalid JSON"));
}

TEST(SendEntriesTest, EmptyListIsForTheBrokerToRefuse) {
  Result<std::vector<pb::SendMessageEntry>> e = ParseSendEntries("[]");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->empty());
}

TEST(DeleteEntriesTest, Parses) {
  Result<std::vector<pb::DeleteMessageBatchEntry>> e =
      ParseDeleteEntries(R"([{"Id": "a", "ReceiptHandle": "h1"}])");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_EQ(e->size(), 1u);
  EXPECT_EQ((*e)[0].id(), "a");
  EXPECT_EQ((*e)[0].receipt_handle(), "h1");
  EXPECT_TRUE(Mentions(ParseDeleteEntries(R"([{"Id": "a"}])").status().detail(),
                       "[0].ReceiptHandle: missing"));
}

TEST(VisibilityEntriesTest, TimeoutDefaultsToZero) {
  Result<std::vector<pb::ChangeMessageVisibilityBatchEntry>> e = ParseVisibilityEntries(
      R"([{"Id": "a", "ReceiptHandle": "h1", "VisibilityTimeout": 60},
          {"Id": "b", "ReceiptHandle": "h2"}])");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_EQ(e->size(), 2u);
  EXPECT_EQ((*e)[0].visibility_timeout(), 60);
  EXPECT_EQ((*e)[1].visibility_timeout(), 0);
}

// --- aws-cli-shaped output ---

TEST(JsonOutputTest, QueueUrlsFromEndpoint) {
  EXPECT_EQ(QueueUrlJson("tcp://127.0.0.1:7400", "jobs").dump(),
            R"({"QueueUrl":"tcp://127.0.0.1:7400/jobs"})");
  pb::ListQueuesResponse list;
  EXPECT_TRUE(ListQueuesJson("tcp://h:1", list).is_null());
  list.add_queue_names("a");
  list.add_queue_names("b");
  EXPECT_EQ(ListQueuesJson("tcp://h:1", list).dump(),
            R"({"QueueUrls":["tcp://h:1/a","tcp://h:1/b"]})");
  list.set_next_token("b");
  EXPECT_EQ(ListQueuesJson("tcp://h:1", list).dump(),
            R"({"QueueUrls":["tcp://h:1/a","tcp://h:1/b"],"NextToken":"b"})");
}

TEST(JsonOutputTest, AttributesAreSorted) {
  pb::GetQueueAttributesResponse resp;
  (*resp.mutable_attributes())["VisibilityTimeout"] = "30";
  (*resp.mutable_attributes())["DelaySeconds"] = "0";
  (*resp.mutable_attributes())["QueueArn"] = "arn";
  EXPECT_EQ(GetQueueAttributesJson(resp).dump(),
            R"({"Attributes":{"DelaySeconds":"0","QueueArn":"arn","VisibilityTimeout":"30"}})");
}

TEST(JsonOutputTest, SendMessageLeavesOutEmptyMembers) {
  pb::SendMessageResponse resp;
  resp.mutable_result()->set_message_id("m1");
  resp.mutable_result()->set_md5_of_message_body("b");
  EXPECT_EQ(SendMessageJson(resp).dump(), R"({"MD5OfMessageBody":"b","MessageId":"m1"})");
  resp.mutable_result()->set_md5_of_message_attributes("a");
  resp.mutable_result()->set_sequence_number("00000000000000000001");
  EXPECT_EQ(SendMessageJson(resp).dump(),
            R"({"MD5OfMessageBody":"b","MD5OfMessageAttributes":"a","MessageId":"m1",)"
            R"("SequenceNumber":"00000000000000000001"})");
}

TEST(JsonOutputTest, SendMessageBatch) {
  pb::SendMessageBatchResponse resp;
  pb::SendMessageResult* ok = resp.add_successful();
  ok->set_id("a");
  ok->set_message_id("m1");
  ok->set_md5_of_message_body("b");
  EXPECT_EQ(SendMessageBatchJson(resp).dump(),
            R"({"Successful":[{"Id":"a","MessageId":"m1","MD5OfMessageBody":"b"}]})");
  pb::BatchResultError* failed = resp.add_failed();
  failed->set_id("c");
  failed->set_code(pb::INVALID_PARAMETER_VALUE);
  failed->set_detail("DelaySeconds must be between 0 and 900");
  failed->set_sender_fault(true);
  EXPECT_EQ(SendMessageBatchJson(resp)["Failed"].dump(),
            R"([{"Id":"c","SenderFault":true,"Code":"InvalidParameterValue",)"
            R"("Message":"DelaySeconds must be between 0 and 900"}])");
}

TEST(JsonOutputTest, ReceiveMessage) {
  pb::ReceiveMessageResponse resp;
  EXPECT_TRUE(ReceiveMessageJson(resp).is_null());
  EXPECT_EQ(FormatJson(ReceiveMessageJson(resp)), "");

  pb::Message* plain = resp.add_messages();
  plain->set_message_id("m1");
  plain->set_receipt_handle("h1");
  plain->set_md5_of_body("d1");
  plain->set_body("one");
  pb::Message* full = resp.add_messages();
  full->set_message_id("m2");
  full->set_receipt_handle("h2");
  full->set_md5_of_body("d2");
  full->set_body("two");
  (*full->mutable_attributes())["SentTimestamp"] = "1700000000000";
  (*full->mutable_attributes())["ApproximateReceiveCount"] = "1";
  full->set_md5_of_message_attributes("da");
  pb::MessageAttributeValue& city = (*full->mutable_message_attributes())["city"];
  city.set_data_type("String");
  city.set_string_value("Paris");
  pb::MessageAttributeValue& raw = (*full->mutable_message_attributes())["raw"];
  raw.set_data_type("Binary");
  raw.set_binary_value(std::string("\x00\x01\x02\xff", 4));

  EXPECT_EQ(ReceiveMessageJson(resp).dump(),
            R"({"Messages":[)"
            R"({"MessageId":"m1","ReceiptHandle":"h1","MD5OfBody":"d1","Body":"one"},)"
            R"({"MessageId":"m2","ReceiptHandle":"h2","MD5OfBody":"d2","Body":"two",)"
            R"("Attributes":{"ApproximateReceiveCount":"1","SentTimestamp":"1700000000000"},)"
            R"("MD5OfMessageAttributes":"da","MessageAttributes":{)"
            R"("city":{"StringValue":"Paris","DataType":"String"},)"
            R"("raw":{"BinaryValue":"AAEC/w==","DataType":"Binary"}}}]})");
}

TEST(JsonOutputTest, BatchOkShapes) {
  pb::DeleteMessageBatchResponse del;
  del.add_successful()->set_id("a");
  EXPECT_EQ(DeleteMessageBatchJson(del).dump(), R"({"Successful":[{"Id":"a"}]})");
  pb::ChangeMessageVisibilityBatchResponse vis;
  pb::BatchResultError* failed = vis.add_failed();
  failed->set_id("b");
  failed->set_code(pb::STALE_RECEIPT_HANDLE);
  failed->set_detail("received again since");
  failed->set_sender_fault(true);
  EXPECT_EQ(ChangeMessageVisibilityBatchJson(vis).dump(),
            R"({"Failed":[{"Id":"b","SenderFault":true,"Code":"StaleReceiptHandle",)"
            R"("Message":"received again since"}]})");
}

TEST(JsonOutputTest, MoveTasks) {
  pb::StartMessageMoveTaskResponse start;
  start.set_task_handle("mt-1");
  EXPECT_EQ(StartMessageMoveTaskJson(start).dump(), R"({"TaskHandle":"mt-1"})");
  pb::CancelMessageMoveTaskResponse cancel;
  cancel.set_approximate_number_of_messages_moved(7);
  EXPECT_EQ(CancelMessageMoveTaskJson(cancel).dump(), R"({"ApproximateNumberOfMessagesMoved":7})");

  pb::ListMessageMoveTasksResponse list;
  EXPECT_EQ(ListMessageMoveTasksJson(list).dump(), R"({"Results":[]})");
  pb::MessageMoveTask* running = list.add_results();
  running->set_task_handle("mt-2");
  running->set_status("RUNNING");
  running->set_source_arn("arn:dlq");
  running->set_destination_arn("arn:q");
  running->set_max_number_of_messages_per_second(5);
  running->set_approximate_number_of_messages_moved(1);
  running->set_approximate_number_of_messages_to_move(4);
  running->set_started_timestamp(1700000000000);
  pb::MessageMoveTask* failed = list.add_results();
  failed->set_status("FAILED");
  failed->set_source_arn("arn:dlq");
  failed->set_failure_reason("gone");
  failed->set_started_timestamp(1600000000000);
  EXPECT_EQ(ListMessageMoveTasksJson(list).dump(),
            R"({"Results":[)"
            R"({"TaskHandle":"mt-2","Status":"RUNNING","SourceArn":"arn:dlq",)"
            R"("DestinationArn":"arn:q","MaxNumberOfMessagesPerSecond":5,)"
            R"("ApproximateNumberOfMessagesMoved":1,"ApproximateNumberOfMessagesToMove":4,)"
            R"("StartedTimestamp":1700000000000},)"
            R"({"Status":"FAILED","SourceArn":"arn:dlq","ApproximateNumberOfMessagesMoved":0,)"
            R"("ApproximateNumberOfMessagesToMove":0,"FailureReason":"gone",)"
            R"("StartedTimestamp":1600000000000}]})");
}

TEST(JsonOutputTest, FormatIndentsFourAndReplacesBadUtf8) {
  EXPECT_EQ(FormatJson(OutputJson{{"TaskHandle", "mt-1"}}), "{\n    \"TaskHandle\": \"mt-1\"\n}\n");
  EXPECT_EQ(FormatJson(OutputJson{{"Body", std::string("a\xff")}}),
            "{\n    \"Body\": \"a\xef\xbf\xbd\"\n}\n");
}

}  // namespace
}  // namespace sluice
