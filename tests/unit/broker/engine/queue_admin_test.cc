// Queue administration: create (idempotence, names, attribute ranges and
// defaults), delete and list.
#include <cctype>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "tests/unit/broker/engine/engine_test_util.h"

namespace sluice::testing {
namespace {

class QueueAdminTest : public EveryJournalTest {
 protected:
  Status List(const std::string& prefix, uint32_t max, const std::string& token,
              pb::ListQueuesResponse* resp) {
    pb::ListQueuesRequest req;
    req.set_queue_name_prefix(prefix);
    req.set_max_results(max);
    req.set_next_token(token);
    return engine().ListQueues(req, resp);
  }

  std::vector<std::string> ListAll(const std::string& prefix) {
    pb::ListQueuesResponse resp;
    EXPECT_OK(List(prefix, 0, "", &resp));
    EXPECT_EQ(resp.next_token(), "");
    return {resp.queue_names().begin(), resp.queue_names().end()};
  }
};

INSTANTIATE_TEST_SUITE_P(Journals, QueueAdminTest, EveryJournal(), JournalParamName);

// --- CreateQueue ---------------------------------------------------------

TEST_P(QueueAdminTest, CreateQueueMakesItFindable) {
  EXPECT_CODE(GetQueueUrl("orders"), kQueueDoesNotExist);
  ASSERT_OK(CreateQueue("orders"));
  EXPECT_OK(GetQueueUrl("orders"));
}

TEST_P(QueueAdminTest, CreateQueueAppliesSqsDefaults) {
  ASSERT_OK(CreateQueue("orders"));
  Attributes a = GetAttributes("orders");
  EXPECT_EQ(a["VisibilityTimeout"], "30");
  EXPECT_EQ(a["MessageRetentionPeriod"], "345600");
  EXPECT_EQ(a["DelaySeconds"], "0");
  EXPECT_EQ(a["ReceiveMessageWaitTimeSeconds"], "0");
  EXPECT_EQ(a["MaximumMessageSize"], "1048576");
  EXPECT_EQ(a["QueueArn"], "arn:aws:sqs:us-east-1:000000000000:orders");
  EXPECT_FALSE(a.contains("FifoQueue"));
  EXPECT_FALSE(a.contains("ContentBasedDeduplication"));
  EXPECT_FALSE(a.contains("RedrivePolicy"));
}

TEST_P(QueueAdminTest, CreateQueueStoresGivenAttributes) {
  ASSERT_OK(CreateQueue("orders", {{"VisibilityTimeout", "45"},
                                   {"MessageRetentionPeriod", "600"},
                                   {"DelaySeconds", "5"},
                                   {"ReceiveMessageWaitTimeSeconds", "20"},
                                   {"MaximumMessageSize", "2048"}}));
  Attributes a = GetAttributes("orders");
  EXPECT_EQ(a["VisibilityTimeout"], "45");
  EXPECT_EQ(a["MessageRetentionPeriod"], "600");
  EXPECT_EQ(a["DelaySeconds"], "5");
  EXPECT_EQ(a["ReceiveMessageWaitTimeSeconds"], "20");
  EXPECT_EQ(a["MaximumMessageSize"], "2048");
}

TEST_P(QueueAdminTest, CreateQueueIsIdempotentForSameAttributes) {
  ASSERT_OK(CreateQueue("orders", {{"VisibilityTimeout", "45"}}));
  Send("orders", "kept");
  EXPECT_OK(CreateQueue("orders", {{"VisibilityTimeout", "45"}}));
  // The existing queue is kept, messages and all.
  EXPECT_EQ(Visible("orders"), 1);
}

TEST_P(QueueAdminTest, CreateQueueWithDefaultsSpelledOutMatchesExistingQueue) {
  ASSERT_OK(CreateQueue("orders"));
  EXPECT_OK(CreateQueue("orders", {{"VisibilityTimeout", "30"}, {"DelaySeconds", "0"}}));
}

TEST_P(QueueAdminTest, CreateQueueSameNameOtherAttributesIsQueueNameExists) {
  ASSERT_OK(CreateQueue("orders", {{"VisibilityTimeout", "45"}}));
  EXPECT_CODE(CreateQueue("orders", {{"VisibilityTimeout", "46"}}), kQueueNameExists);
  EXPECT_CODE(CreateQueue("orders"), kQueueNameExists);
  EXPECT_EQ(GetAttributes("orders")["VisibilityTimeout"], "45");
}

TEST_P(QueueAdminTest, CreateQueueAfterSetAttributesComparesCurrentAttributes) {
  ASSERT_OK(CreateQueue("orders"));
  ASSERT_OK(SetAttributes("orders", {{"DelaySeconds", "7"}}));
  EXPECT_CODE(CreateQueue("orders"), kQueueNameExists);
  EXPECT_OK(CreateQueue("orders", {{"DelaySeconds", "7"}}));
}

TEST_P(QueueAdminTest, QueueNamesAreCaseSensitive) {
  ASSERT_OK(CreateQueue("Orders"));
  EXPECT_CODE(GetQueueUrl("orders"), kQueueDoesNotExist);
  ASSERT_OK(CreateQueue("orders", {{"DelaySeconds", "3"}}));
  EXPECT_EQ(GetAttributes("Orders")["DelaySeconds"], "0");
  EXPECT_EQ(GetAttributes("orders")["DelaySeconds"], "3");
}

TEST_P(QueueAdminTest, QueueNameOfOneToEightyAllowedCharactersIsAccepted) {
  EXPECT_OK(CreateQueue("a"));
  EXPECT_OK(CreateQueue("Az09_-"));
  EXPECT_OK(CreateQueue(std::string(80, 'q')));
}

TEST_P(QueueAdminTest, QueueNameEmptyOrLongerThanEightyIsRejected) {
  EXPECT_CODE(CreateQueue(""), kInvalidParameterValue);
  EXPECT_CODE(CreateQueue(std::string(81, 'q')), kInvalidParameterValue);
  EXPECT_CODE(GetQueueUrl(std::string(81, 'q')), kQueueDoesNotExist);
}

TEST_P(QueueAdminTest, QueueNameWithOtherCharactersIsRejected) {
  for (const char* name : {"with space", "dot.ted", "slash/name", "colon:name", "star*",
                           "caf\xc3\xa9", ".fifo", "x.fifo.fifo"}) {
    EXPECT_CODE(CreateQueue(name), kInvalidParameterValue) << name;
  }
  pb::ListQueuesResponse resp;
  EXPECT_OK(List("", 0, "", &resp));
  EXPECT_EQ(resp.queue_names_size(), 0);
}

TEST_P(QueueAdminTest, FifoSuffixCountsInTheEightyCharacters) {
  EXPECT_OK(CreateQueue(std::string(75, 'f') + ".fifo"));
  EXPECT_CODE(CreateQueue(std::string(76, 'f') + ".fifo"), kInvalidParameterValue);
}

TEST_P(QueueAdminTest, FifoNameMakesAFifoQueue) {
  ASSERT_OK(CreateQueue("jobs.fifo"));
  Attributes a = GetAttributes("jobs.fifo");
  EXPECT_EQ(a["FifoQueue"], "true");
  EXPECT_EQ(a["ContentBasedDeduplication"], "false");
  // Saying so explicitly is the same queue.
  EXPECT_OK(CreateQueue("jobs.fifo", {{"FifoQueue", "true"}}));
}

TEST_P(QueueAdminTest, FifoQueueAttributeNeedsFifoName) {
  EXPECT_CODE(CreateQueue("jobs", {{"FifoQueue", "true"}}), kInvalidParameterValue);
  EXPECT_CODE(GetQueueUrl("jobs"), kQueueDoesNotExist);
}

TEST_P(QueueAdminTest, FifoNameWithFifoQueueFalseIsRejected) {
  EXPECT_CODE(CreateQueue("jobs.fifo", {{"FifoQueue", "false"}}), kInvalidParameterValue);
  EXPECT_CODE(GetQueueUrl("jobs.fifo"), kQueueDoesNotExist);
}

TEST_P(QueueAdminTest, FifoQueueFalseOnPlainNameIsTheDefault) {
  ASSERT_OK(CreateQueue("plain", {{"FifoQueue", "false"}}));
  EXPECT_OK(CreateQueue("plain"));
  EXPECT_FALSE(GetAttributes("plain").contains("FifoQueue"));
}

TEST_P(QueueAdminTest, ContentBasedDeduplicationIsForFifoQueuesOnly) {
  EXPECT_CODE(CreateQueue("plain", {{"ContentBasedDeduplication", "true"}}), kInvalidAttributeName);
  ASSERT_OK(CreateQueue("jobs.fifo", {{"ContentBasedDeduplication", "true"}}));
  EXPECT_EQ(GetAttributes("jobs.fifo")["ContentBasedDeduplication"], "true");
  EXPECT_CODE(CreateQueue("jobs.fifo"), kQueueNameExists);
}

TEST_P(QueueAdminTest, AttributeRangesAcceptTheirBounds) {
  EXPECT_OK(CreateQueue("lo", {{"VisibilityTimeout", "0"},
                               {"MessageRetentionPeriod", "60"},
                               {"DelaySeconds", "0"},
                               {"ReceiveMessageWaitTimeSeconds", "0"},
                               {"MaximumMessageSize", "1024"}}));
  EXPECT_OK(CreateQueue("hi", {{"VisibilityTimeout", "43200"},
                               {"MessageRetentionPeriod", "1209600"},
                               {"DelaySeconds", "900"},
                               {"ReceiveMessageWaitTimeSeconds", "20"},
                               {"MaximumMessageSize", "1048576"}}));
}

struct BadAttribute {
  const char* name;
  const char* value;
};

void PrintTo(const BadAttribute& bad, std::ostream* os) {
  *os << bad.name << "='" << bad.value << "'";
}

// On every journal, as the other fixtures (EveryJournalTest), and for every
// attribute value out of range.
class AttributeOutOfRangeTest
    : public ::testing::WithParamInterface<std::tuple<JournalKind, BadAttribute>>,
      public EngineTest {
 protected:
  AttributeOutOfRangeTest() : EngineTest(std::get<JournalKind>(GetParam())) {}
};

TEST_P(AttributeOutOfRangeTest, IsInvalidAttributeValueOnCreateAndSet) {
  const BadAttribute& bad = std::get<BadAttribute>(GetParam());
  EXPECT_CODE(CreateQueue("q", {{bad.name, bad.value}}), kInvalidAttributeValue);
  EXPECT_CODE(GetQueueUrl("q"), kQueueDoesNotExist);
  ASSERT_OK(CreateQueue("q"));
  const Attributes before = GetAttributes("q");
  EXPECT_CODE(SetAttributes("q", {{bad.name, bad.value}}), kInvalidAttributeValue);
  EXPECT_EQ(GetAttributes("q"), before);
}

// "VisibilityTimeout_Minus1_Memory": the attribute, its value and the
// journal, as a test name.
std::string BadAttributeName(
    const ::testing::TestParamInfo<std::tuple<JournalKind, BadAttribute>>& info) {
  const auto& [journal, bad] = info.param;
  std::string value;
  for (const char* c = bad.value; *c != '\0'; ++c) {
    value += std::isalnum(static_cast<unsigned char>(*c)) ? std::string(1, *c) : "Minus";
  }
  return std::string(bad.name) + "_" + (value.empty() ? "Empty" : value) + "_" +
         JournalName(journal);
}

INSTANTIATE_TEST_SUITE_P(
    Ranges, AttributeOutOfRangeTest,
    ::testing::Combine(
        EveryJournal(),
        ::testing::Values(
            BadAttribute{"VisibilityTimeout", "-1"}, BadAttribute{"VisibilityTimeout", "43201"},
            BadAttribute{"VisibilityTimeout", "thirty"}, BadAttribute{"VisibilityTimeout", ""},
            BadAttribute{"VisibilityTimeout", "30s"}, BadAttribute{"MessageRetentionPeriod", "59"},
            BadAttribute{"MessageRetentionPeriod", "1209601"}, BadAttribute{"DelaySeconds", "-1"},
            BadAttribute{"DelaySeconds", "901"},
            BadAttribute{"ReceiveMessageWaitTimeSeconds", "21"},
            BadAttribute{"MaximumMessageSize", "1023"},
            BadAttribute{"MaximumMessageSize", "1048577"},
            BadAttribute{"MaximumMessageSize", "99999999999999999999"})),
    BadAttributeName);

TEST_P(QueueAdminTest, UnknownAttributeNameIsRejected) {
  EXPECT_CODE(CreateQueue("q", {{"VisibilityTimout", "30"}}), kInvalidAttributeName);
  EXPECT_CODE(GetQueueUrl("q"), kQueueDoesNotExist);
  ASSERT_OK(CreateQueue("q"));
  EXPECT_CODE(SetAttributes("q", {{"Colour", "blue"}}), kInvalidAttributeName);
}

TEST_P(QueueAdminTest, ReadOnlyAttributesCannotBeSet) {
  ASSERT_OK(CreateQueue("q"));
  for (const char* name : {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                           "ApproximateNumberOfMessagesDelayed", "CreatedTimestamp",
                           "LastModifiedTimestamp", "QueueArn"}) {
    EXPECT_CODE(SetAttributes("q", {{name, "1"}}), kInvalidAttributeName) << name;
    EXPECT_CODE(CreateQueue("q2", {{name, "1"}}), kInvalidAttributeName) << name;
  }
}

TEST_P(QueueAdminTest, FifoQueueCannotBeChangedAfterCreation) {
  ASSERT_OK(CreateQueue("q"));
  EXPECT_CODE(SetAttributes("q", {{"FifoQueue", "true"}}), kInvalidAttributeName);
  ASSERT_OK(CreateQueue("q.fifo"));
  EXPECT_CODE(SetAttributes("q.fifo", {{"FifoQueue", "false"}}), kInvalidAttributeName);
  EXPECT_EQ(GetAttributes("q.fifo")["FifoQueue"], "true");
}

TEST_P(QueueAdminTest, OneBadAttributeRejectsTheWholeSet) {
  ASSERT_OK(CreateQueue("q"));
  EXPECT_CODE(SetAttributes("q", {{"DelaySeconds", "10"}, {"VisibilityTimeout", "99999"}}),
              kInvalidAttributeValue);
  EXPECT_EQ(GetAttributes("q")["DelaySeconds"], "0");
}

// --- DeleteQueue -----------------------------------------------------------

TEST_P(QueueAdminTest, DeleteQueueRemovesQueueAndMessages) {
  ASSERT_OK(CreateQueue("q"));
  Send("q", "m");
  ASSERT_OK(DeleteQueue("q"));
  EXPECT_CODE(GetQueueUrl("q"), kQueueDoesNotExist);
  EXPECT_CODE(SendEntry("q", Entry("m")), kQueueDoesNotExist);
  // A queue created again by the name starts empty.
  ASSERT_OK(CreateQueue("q"));
  EXPECT_EQ(Visible("q"), 0);
}

TEST_P(QueueAdminTest, DeleteMissingQueueIsQueueDoesNotExist) {
  EXPECT_CODE(DeleteQueue("nope"), kQueueDoesNotExist);
  ASSERT_OK(CreateQueue("q"));
  ASSERT_OK(DeleteQueue("q"));
  EXPECT_CODE(DeleteQueue("q"), kQueueDoesNotExist);
}

TEST_P(QueueAdminTest, EveryQueueOperationOnMissingQueueIsQueueDoesNotExist) {
  pb::GetQueueAttributesRequest get;
  get.set_queue_name("nope");
  pb::GetQueueAttributesResponse get_resp;
  EXPECT_CODE(engine().GetQueueAttributes(get, &get_resp), kQueueDoesNotExist);
  EXPECT_CODE(SetAttributes("nope", {{"DelaySeconds", "1"}}), kQueueDoesNotExist);
  EXPECT_CODE(Purge("nope"), kQueueDoesNotExist);
  pb::ReceiveMessageResponse recv;
  EXPECT_CODE(engine().ReceiveMessage(ReceiveRequest("nope"), &recv), kQueueDoesNotExist);
  EXPECT_CODE(DeleteMessage("nope", "1.1.1.0"), kQueueDoesNotExist);
  EXPECT_CODE(ChangeVisibility("nope", "1.1.1.0", 5), kQueueDoesNotExist);
  pb::SendMessageBatchResponse batch;
  EXPECT_CODE(SendBatch("nope", {Entry("x")}, &batch), kQueueDoesNotExist);
}

// --- ListQueues ---------------------------------------------------------------

TEST_P(QueueAdminTest, ListQueuesFiltersByPrefixInNameOrder) {
  for (const char* name : {"beta", "alpha-2", "alpha-1", "alp", "gamma.fifo", "Alpha"}) {
    ASSERT_OK(CreateQueue(name));
  }
  EXPECT_EQ(ListAll("alpha"), (std::vector<std::string>{"alpha-1", "alpha-2"}));
  EXPECT_EQ(ListAll("alp"), (std::vector<std::string>{"alp", "alpha-1", "alpha-2"}));
  EXPECT_EQ(ListAll("Alpha"), (std::vector<std::string>{"Alpha"}));
  EXPECT_EQ(ListAll("zeta"), (std::vector<std::string>{}));
  EXPECT_EQ(ListAll("").size(), 6u);
}

TEST_P(QueueAdminTest, ListQueuesPagesWithNextToken) {
  for (int i = 0; i < 7; ++i) ASSERT_OK(CreateQueue("q" + std::to_string(i)));
  ASSERT_OK(CreateQueue("other"));
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    pb::ListQueuesResponse resp;
    ASSERT_OK(List("q", 3, token, &resp));
    EXPECT_LE(resp.queue_names_size(), 3);
    seen.insert(seen.end(), resp.queue_names().begin(), resp.queue_names().end());
    token = resp.next_token();
    ++pages;
    ASSERT_LE(pages, 5);
  } while (!token.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, (std::vector<std::string>{"q0", "q1", "q2", "q3", "q4", "q5", "q6"}));
}

TEST_P(QueueAdminTest, ListQueuesFullLastPageHasNoNextToken) {
  for (int i = 0; i < 4; ++i) ASSERT_OK(CreateQueue("q" + std::to_string(i)));
  pb::ListQueuesResponse first;
  ASSERT_OK(List("", 2, "", &first));
  EXPECT_EQ(first.next_token(), "q1");
  pb::ListQueuesResponse second;
  ASSERT_OK(List("", 2, first.next_token(), &second));
  EXPECT_EQ(second.queue_names_size(), 2);
  EXPECT_EQ(second.next_token(), "");
}

TEST_P(QueueAdminTest, ListQueuesReturnsUpToAThousandByDefault) {
  for (int i = 0; i < 1001; ++i) ASSERT_OK(CreateQueue("q" + std::to_string(i)));
  pb::ListQueuesResponse resp;
  ASSERT_OK(List("", 0, "", &resp));
  EXPECT_EQ(resp.queue_names_size(), 1000);
  EXPECT_FALSE(resp.next_token().empty());
  pb::ListQueuesResponse rest;
  ASSERT_OK(List("", 0, resp.next_token(), &rest));
  EXPECT_EQ(rest.queue_names_size(), 1);
}

TEST_P(QueueAdminTest, ListQueuesMaxResultsAboveAThousandIsInvalid) {
  pb::ListQueuesResponse resp;
  EXPECT_CODE(List("", 1001, "", &resp), kInvalidParameterValue);
  EXPECT_OK(List("", 1000, "", &resp));
}

TEST_P(QueueAdminTest, ListQueuesLeavesOutDeletedQueues) {
  ASSERT_OK(CreateQueue("a"));
  ASSERT_OK(CreateQueue("b"));
  ASSERT_OK(DeleteQueue("a"));
  EXPECT_EQ(ListAll(""), (std::vector<std::string>{"b"}));
}

}  // namespace
}  // namespace sluice::testing
