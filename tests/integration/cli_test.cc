// Integration tests of the sluice-producer CLI against the real broker: the
// aws-sqs-shaped subcommands, their JSON output, their errors and exit codes.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/broker_process.h"

namespace sluice {
namespace {

using nlohmann::json;
using testing::BrokerProcess;
using testing::CommandResult;

class CliTest : public ::testing::Test {
 protected:
  // Runs the CLI with --broker pointing at the test's broker.
  CommandResult Cli(std::vector<std::string> args) {
    std::vector<std::string> argv = {testing::ProducerBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--broker");
    argv.push_back(broker_.endpoint());
    return testing::RunCommand(argv);
  }

  // Runs the CLI, expects success, and parses its output ("null" when empty).
  json CliJson(std::vector<std::string> args) {
    CommandResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
    if (r.out.empty()) return json();
    return json::parse(r.out);
  }

  BrokerProcess broker_;
};

TEST_F(CliTest, SendReceiveDeleteWithAwsShapedOutput) {
  json created = CliJson({"create-queue", "--queue-name", "jobs"});
  EXPECT_EQ(created["QueueUrl"], broker_.endpoint() + "/jobs");

  json sent =
      CliJson({"send-message", "--queue-name", "jobs", "--message-body", "hello world",
               "--message-attributes", R"({"size":{"DataType":"Number","StringValue":"1000"}})"});
  EXPECT_EQ(sent["MD5OfMessageBody"], "5eb63bbbe01eeed093cb22bb8f5acdc3");
  EXPECT_TRUE(sent.contains("MD5OfMessageAttributes"));
  ASSERT_TRUE(sent["MessageId"].is_string());

  json got = CliJson({"receive-message", "--queue-name", "jobs", "--attribute-names", "All",
                      "--message-attribute-names", "All"});
  ASSERT_EQ(got["Messages"].size(), 1u);
  const json& m = got["Messages"][0];
  EXPECT_EQ(m["MessageId"], sent["MessageId"]);
  EXPECT_EQ(m["Body"], "hello world");
  EXPECT_EQ(m["MD5OfBody"], sent["MD5OfMessageBody"]);
  EXPECT_EQ(m["Attributes"]["ApproximateReceiveCount"], "1");
  EXPECT_EQ(m["MessageAttributes"]["size"]["StringValue"], "1000");
  EXPECT_EQ(m["MessageAttributes"]["size"]["DataType"], "Number");
  EXPECT_EQ(m["MD5OfMessageAttributes"], sent["MD5OfMessageAttributes"]);

  CommandResult del = Cli({"delete-message", "--queue-name", "jobs", "--receipt-handle",
                           m["ReceiptHandle"].get<std::string>()});
  EXPECT_EQ(del.exit_code, 0) << del.err;
  EXPECT_EQ(del.out, "");

  // An empty receive prints nothing and succeeds, as aws-cli does.
  CommandResult empty = Cli({"receive-message", "--queue-name", "jobs"});
  EXPECT_EQ(empty.exit_code, 0);
  EXPECT_EQ(empty.out, "");
}

TEST_F(CliTest, AttributesInShorthandAndJsonForms) {
  CliJson(
      {"create-queue", "--queue-name", "a", "--attributes", "VisibilityTimeout=45,DelaySeconds=5"});
  json attrs = CliJson({"get-queue-attributes", "--queue-name", "a", "--attribute-names", "All"});
  EXPECT_EQ(attrs["Attributes"]["VisibilityTimeout"], "45");
  EXPECT_EQ(attrs["Attributes"]["DelaySeconds"], "5");

  CliJson({"set-queue-attributes", "--queue-name", "a", "--attributes",
           R"({"VisibilityTimeout":"90","MessageRetentionPeriod":"3600"})"});
  attrs = CliJson({"get-queue-attributes", "--queue-name", "a", "--attribute-names",
                   "VisibilityTimeout", "MessageRetentionPeriod"});
  EXPECT_EQ(attrs["Attributes"]["VisibilityTimeout"], "90");
  EXPECT_EQ(attrs["Attributes"]["MessageRetentionPeriod"], "3600");
  EXPECT_FALSE(attrs["Attributes"].contains("DelaySeconds"));
}

TEST_F(CliTest, QueueUrlNamesTheQueueByItsLastSegment) {
  json created = CliJson({"create-queue", "--queue-name", "by-url"});
  const std::string url = created["QueueUrl"];
  json sent = CliJson({"send-message", "--queue-url", url, "--message-body", "x"});
  EXPECT_TRUE(sent.contains("MessageId"));
  json url_again = CliJson({"get-queue-url", "--queue-name", "by-url"});
  EXPECT_EQ(url_again["QueueUrl"], url);
}

TEST_F(CliTest, BatchReportsSuccessfulAndFailedEntries) {
  CliJson({"create-queue", "--queue-name", "batch"});
  json result = CliJson(
      {"send-message-batch", "--queue-name", "batch", "--entries",
       R"([{"Id":"ok","MessageBody":"fine"},{"Id":"bad","MessageBody":"x","DelaySeconds":901}])"});
  ASSERT_EQ(result["Successful"].size(), 1u);
  EXPECT_EQ(result["Successful"][0]["Id"], "ok");
  ASSERT_EQ(result["Failed"].size(), 1u);
  EXPECT_EQ(result["Failed"][0]["Id"], "bad");
  EXPECT_EQ(result["Failed"][0]["Code"], "InvalidParameterValue");
  EXPECT_EQ(result["Failed"][0]["SenderFault"], true);

  json got =
      CliJson({"receive-message", "--queue-name", "batch", "--max-number-of-messages", "10"});
  ASSERT_EQ(got["Messages"].size(), 1u);
  json deleted =
      CliJson({"delete-message-batch", "--queue-name", "batch", "--entries",
               json::array({{{"Id", "d1"}, {"ReceiptHandle", got["Messages"][0]["ReceiptHandle"]}},
                            {{"Id", "d2"}, {"ReceiptHandle", "not-a-handle"}}})
                   .dump()});
  ASSERT_EQ(deleted["Successful"].size(), 1u);
  EXPECT_EQ(deleted["Successful"][0]["Id"], "d1");
  ASSERT_EQ(deleted["Failed"].size(), 1u);
  EXPECT_EQ(deleted["Failed"][0]["Code"], "ReceiptHandleIsInvalid");
}

TEST_F(CliTest, BatchLevelErrorsUseSqsNames) {
  CliJson({"create-queue", "--queue-name", "b2"});
  CommandResult dup = Cli({"send-message-batch", "--queue-name", "b2", "--entries",
                           R"([{"Id":"same","MessageBody":"1"},{"Id":"same","MessageBody":"2"}])"});
  EXPECT_EQ(dup.exit_code, 254);
  EXPECT_NE(dup.err.find("(BatchEntryIdsNotDistinct)"), std::string::npos) << dup.err;
  json eleven = json::array();
  for (int i = 0; i < 11; ++i) eleven.push_back({{"Id", std::to_string(i)}, {"MessageBody", "m"}});
  CommandResult many =
      Cli({"send-message-batch", "--queue-name", "b2", "--entries", eleven.dump()});
  EXPECT_EQ(many.exit_code, 254);
  EXPECT_NE(many.err.find("(TooManyEntriesInBatchRequest)"), std::string::npos) << many.err;
}

TEST_F(CliTest, StaleReceiptHandleIsReportedAndDeletesNothing) {
  CliJson({"create-queue", "--queue-name", "stale"});
  CliJson({"send-message", "--queue-name", "stale", "--message-body", "m"});
  json first = CliJson({"receive-message", "--queue-name", "stale", "--visibility-timeout", "0"});
  json second = CliJson({"receive-message", "--queue-name", "stale"});
  ASSERT_EQ(second["Messages"].size(), 1u);
  CommandResult del = Cli({"delete-message", "--queue-name", "stale", "--receipt-handle",
                           first["Messages"][0]["ReceiptHandle"].get<std::string>()});
  EXPECT_EQ(del.exit_code, 254);
  EXPECT_NE(del.err.find("(StaleReceiptHandle)"), std::string::npos) << del.err;
  json attrs = CliJson({"get-queue-attributes", "--queue-name", "stale", "--attribute-names",
                        "ApproximateNumberOfMessagesNotVisible"});
  EXPECT_EQ(attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"], "1");
}

TEST_F(CliTest, ChangeMessageVisibilityReleasesAMessage) {
  CliJson({"create-queue", "--queue-name", "cv"});
  CliJson({"send-message", "--queue-name", "cv", "--message-body", "m"});
  json got = CliJson({"receive-message", "--queue-name", "cv", "--visibility-timeout", "600"});
  ASSERT_EQ(got["Messages"].size(), 1u);
  CommandResult r =
      Cli({"change-message-visibility", "--queue-name", "cv", "--receipt-handle",
           got["Messages"][0]["ReceiptHandle"].get<std::string>(), "--visibility-timeout", "0"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  json again = CliJson({"receive-message", "--queue-name", "cv"});
  ASSERT_EQ(again["Messages"].size(), 1u);
  EXPECT_EQ(again["Messages"][0]["MessageId"], got["Messages"][0]["MessageId"]);
}

TEST_F(CliTest, FifoSendsCarrySequenceNumbersAndDeduplicate) {
  CliJson({"create-queue", "--queue-name", "orders.fifo", "--attributes",
           "FifoQueue=true,ContentBasedDeduplication=true"});
  json a = CliJson({"send-message", "--queue-name", "orders.fifo", "--message-body", "one",
                    "--message-group-id", "user-1"});
  json b = CliJson({"send-message", "--queue-name", "orders.fifo", "--message-body", "one",
                    "--message-group-id", "user-1"});
  ASSERT_TRUE(a["SequenceNumber"].is_string());
  EXPECT_EQ(a["MessageId"], b["MessageId"]);  // the duplicate names the first send
  json got = CliJson({"receive-message", "--queue-name", "orders.fifo", "--max-number-of-messages",
                      "10", "--attribute-names", "All"});
  ASSERT_EQ(got["Messages"].size(), 1u);
  EXPECT_EQ(got["Messages"][0]["Attributes"]["MessageGroupId"], "user-1");
  EXPECT_EQ(got["Messages"][0]["Attributes"]["SequenceNumber"], a["SequenceNumber"]);
}

TEST_F(CliTest, DeadLetterRedriveWithMoveTasks) {
  CliJson({"create-queue", "--queue-name", "work-dlq"});
  json arn = CliJson(
      {"get-queue-attributes", "--queue-name", "work-dlq", "--attribute-names", "QueueArn"});
  const std::string dlq_arn = arn["Attributes"]["QueueArn"];
  json policy = {{"deadLetterTargetArn", dlq_arn}, {"maxReceiveCount", "1"}};
  CliJson({"create-queue", "--queue-name", "work", "--attributes",
           json{{"RedrivePolicy", policy.dump()}}.dump()});
  CliJson({"send-message", "--queue-name", "work", "--message-body", "poison"});
  CliJson({"receive-message", "--queue-name", "work", "--visibility-timeout", "0"});
  // The second receive moves the message to the dead-letter queue.
  EXPECT_EQ(Cli({"receive-message", "--queue-name", "work"}).out, "");
  json dlq_attrs = CliJson({"get-queue-attributes", "--queue-name", "work-dlq", "--attribute-names",
                            "ApproximateNumberOfMessages"});
  EXPECT_EQ(dlq_attrs["Attributes"]["ApproximateNumberOfMessages"], "1");

  json task = CliJson({"start-message-move-task", "--source-arn", dlq_arn});
  ASSERT_TRUE(task["TaskHandle"].is_string());
  json tasks = CliJson({"list-message-move-tasks", "--source-arn", dlq_arn});
  ASSERT_EQ(tasks["Results"].size(), 1u);
  EXPECT_EQ(tasks["Results"][0]["Status"], "COMPLETED");
  EXPECT_EQ(tasks["Results"][0]["ApproximateNumberOfMessagesMoved"], 1);
  json back = CliJson({"receive-message", "--queue-name", "work"});
  ASSERT_EQ(back["Messages"].size(), 1u);
  EXPECT_EQ(back["Messages"][0]["Body"], "poison");
}

TEST_F(CliTest, TagsAndDeadLetterSources) {
  CliJson({"create-queue", "--queue-name", "tagged", "--tags", "team=photos,env=dev"});
  EXPECT_EQ(Cli({"tag-queue", "--queue-name", "tagged", "--tags", R"({"env": "prod"})"}).out, "");
  EXPECT_EQ(CliJson({"list-queue-tags", "--queue-name", "tagged"}),
            json::parse(R"({"Tags": {"env": "prod", "team": "photos"}})"));
  EXPECT_EQ(Cli({"untag-queue", "--queue-name", "tagged", "--tag-keys", "env", "team"}).out, "");
  EXPECT_EQ(Cli({"list-queue-tags", "--queue-name", "tagged"}).out, "");

  CliJson({"create-queue", "--queue-name", "sources-dlq"});
  json policy = {{"deadLetterTargetArn", "sources-dlq"}, {"maxReceiveCount", "3"}};
  CliJson({"create-queue", "--queue-name", "source", "--attributes",
           json{{"RedrivePolicy", policy.dump()}}.dump()});
  json sources = CliJson({"list-dead-letter-source-queues", "--queue-name", "sources-dlq"});
  ASSERT_EQ(sources["queueUrls"].size(), 1u);
  EXPECT_TRUE(sources["queueUrls"][0].get<std::string>().ends_with("/source"));
  CommandResult missing = Cli({"list-queue-tags", "--queue-name", "nope"});
  EXPECT_EQ(missing.exit_code, 254);
  EXPECT_NE(missing.err.find("QueueDoesNotExist"), std::string::npos) << missing.err;
}

TEST_F(CliTest, ListQueuesByPrefixAndPurge) {
  for (const char* name : {"img-small", "img-large", "other"}) {
    CliJson({"create-queue", "--queue-name", name});
  }
  json listed = CliJson({"list-queues", "--queue-name-prefix", "img-"});
  ASSERT_EQ(listed["QueueUrls"].size(), 2u);
  EXPECT_EQ(listed["QueueUrls"][0], broker_.endpoint() + "/img-large");
  CliJson({"send-message", "--queue-name", "other", "--message-body", "m"});
  CliJson({"purge-queue", "--queue-name", "other"});
  json attrs = CliJson({"get-queue-attributes", "--queue-name", "other", "--attribute-names",
                        "ApproximateNumberOfMessages"});
  EXPECT_EQ(attrs["Attributes"]["ApproximateNumberOfMessages"], "0");
  CliJson({"delete-queue", "--queue-name", "other"});
  EXPECT_EQ(Cli({"get-queue-url", "--queue-name", "other"}).exit_code, 254);
}

TEST_F(CliTest, BrokerErrorsPrintTheSqsCodeAndExit254) {
  CommandResult r = Cli({"send-message", "--queue-name", "missing", "--message-body", "x"});
  EXPECT_EQ(r.exit_code, 254);
  EXPECT_NE(r.err.find("An error occurred (QueueDoesNotExist) when calling the SendMessage"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.out, "");
  CliJson({"create-queue", "--queue-name", "x", "--attributes", "VisibilityTimeout=10"});
  CommandResult exists =
      Cli({"create-queue", "--queue-name", "x", "--attributes", "VisibilityTimeout=20"});
  EXPECT_EQ(exists.exit_code, 254);
  EXPECT_NE(exists.err.find("(QueueNameExists)"), std::string::npos) << exists.err;
}

TEST_F(CliTest, UsageErrorsExit252) {
  CommandResult no_queue = Cli({"send-message", "--message-body", "x"});
  EXPECT_EQ(no_queue.exit_code, 252);
  EXPECT_NE(no_queue.err.find("--queue-name"), std::string::npos) << no_queue.err;
  CommandResult bad_json = Cli({"send-message-batch", "--queue-name", "q", "--entries", "[{"});
  EXPECT_EQ(bad_json.exit_code, 252);
  EXPECT_NE(bad_json.err.find("--entries"), std::string::npos) << bad_json.err;
  CommandResult unknown = Cli({"frobnicate"});
  EXPECT_EQ(unknown.exit_code, 252);
}

TEST(CliWithoutBroker, UnreachableBrokerExits255NamingTheEndpoint) {
  testing::TempDir dir;
  const std::string endpoint = "ipc://" + dir.path() + "/nobody.sock";
  CommandResult r = testing::RunCommand(
      {testing::ProducerBinary(), "list-queues", "--timeout-ms", "300", "--broker", endpoint});
  EXPECT_EQ(r.exit_code, 255);
  EXPECT_NE(r.err.find(endpoint), std::string::npos) << r.err;
}

TEST(CliEnvironment, FindsTheBrokerThroughSluiceBroker) {
  BrokerProcess broker;
  CommandResult r =
      testing::RunCommand({testing::ProducerBinary(), "create-queue", "--queue-name", "env"},
                          {"SLUICE_BROKER=" + broker.endpoint()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["QueueUrl"], broker.endpoint() + "/env");
}

}  // namespace
}  // namespace sluice
