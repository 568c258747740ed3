// Queue tags (TagQueue, UntagQueue, ListQueueTags, CreateQueue's tags) and
// ListDeadLetterSourceQueues. That tags outlive a restart is
// storage_recovery_test's.
#include <map>
#include <string>
#include <vector>

#include "tests/unit/broker/engine/engine_test_util.h"

namespace sluice::testing {
namespace {

using Tags = std::map<std::string, std::string>;

class TagsTest : public EveryJournalTest {
 protected:
  Status Tag(const std::string& queue, const Tags& tags) {
    pb::TagQueueRequest req;
    req.set_queue_name(queue);
    req.mutable_tags()->insert(tags.begin(), tags.end());
    pb::TagQueueResponse resp;
    return engine().TagQueue(req, &resp);
  }
  Status Untag(const std::string& queue, const std::vector<std::string>& keys) {
    pb::UntagQueueRequest req;
    req.set_queue_name(queue);
    req.mutable_tag_keys()->Add(keys.begin(), keys.end());
    pb::UntagQueueResponse resp;
    return engine().UntagQueue(req, &resp);
  }
  Tags TagsOf(const std::string& queue) {
    pb::ListQueueTagsRequest req;
    req.set_queue_name(queue);
    pb::ListQueueTagsResponse resp;
    EXPECT_OK(engine().ListQueueTags(req, &resp));
    return Tags(resp.tags().begin(), resp.tags().end());
  }
  Status Sources(const std::string& dlq, uint32_t max, const std::string& token,
                 pb::ListDeadLetterSourceQueuesResponse* resp) {
    pb::ListDeadLetterSourceQueuesRequest req;
    req.set_queue_name(dlq);
    req.set_max_results(max);
    req.set_next_token(token);
    return engine().ListDeadLetterSourceQueues(req, resp);
  }
};

INSTANTIATE_TEST_SUITE_P(Journals, TagsTest, EveryJournal(), JournalParamName);

TEST_P(TagsTest, TagQueueAddsAndReplacesAndUntagRemoves) {
  ASSERT_OK(CreateQueue("q"));
  EXPECT_EQ(TagsOf("q"), Tags{});
  ASSERT_OK(Tag("q", {{"team", "photos"}, {"env", "dev"}}));
  ASSERT_OK(Tag("q", {{"env", "prod"}, {"cost-centre", ""}}));
  EXPECT_EQ(TagsOf("q"), (Tags{{"team", "photos"}, {"env", "prod"}, {"cost-centre", ""}}));
  ASSERT_OK(Untag("q", {"team", "absent"}));
  EXPECT_EQ(TagsOf("q"), (Tags{{"env", "prod"}, {"cost-centre", ""}}));
}

TEST_P(TagsTest, TaggingLeavesLastModifiedTimestampAlone) {
  ASSERT_OK(CreateQueue("q"));
  const std::string before = GetAttributes("q")["LastModifiedTimestamp"];
  AdvanceSeconds(10);
  ASSERT_OK(Tag("q", {{"a", "b"}}));
  EXPECT_EQ(GetAttributes("q")["LastModifiedTimestamp"], before);
}

TEST_P(TagsTest, CreateQueueTagsANewQueueOnly) {
  pb::CreateQueueRequest req;
  req.set_queue_name("q");
  (*req.mutable_tags())["team"] = "photos";
  pb::CreateQueueResponse resp;
  ASSERT_OK(engine().CreateQueue(req, &resp));
  EXPECT_EQ(TagsOf("q"), (Tags{{"team", "photos"}}));
  // As in SQS, creating an existing queue again answers its URL and leaves
  // its tags as they are.
  (*req.mutable_tags())["team"] = "other";
  ASSERT_OK(engine().CreateQueue(req, &resp));
  EXPECT_EQ(TagsOf("q"), (Tags{{"team", "photos"}}));
}

TEST_P(TagsTest, TagsBreakingSqsRulesAreRefusedWholly) {
  ASSERT_OK(CreateQueue("q"));
  ASSERT_OK(Tag("q", {{"keep", "1"}}));
  EXPECT_CODE(Tag("q", {{"ok", "1"}, {"", "empty key"}}), kInvalidParameterValue);
  EXPECT_CODE(Tag("q", {{std::string(129, 'k'), "v"}}), kInvalidParameterValue);
  EXPECT_CODE(Tag("q", {{"k", std::string(257, 'v')}}), kInvalidParameterValue);
  EXPECT_CODE(Tag("q", {{"aws:reserved", "v"}}), kInvalidParameterValue);
  ASSERT_OK(Tag("q", {{std::string(128, 'k'), std::string(256, 'v')}}));
  Tags many;
  for (int i = 0; i < 48; ++i) many["t" + std::to_string(i)] = "v";
  ASSERT_OK(Tag("q", many));  // 50 in all
  EXPECT_CODE(Tag("q", {{"one-too-many", "v"}}), kInvalidParameterValue);
  EXPECT_EQ(TagsOf("q").size(), 50u);
  EXPECT_FALSE(TagsOf("q").contains("ok"));
}

TEST_P(TagsTest, TagOperationsOnAMissingQueueSayItDoesNotExist) {
  EXPECT_CODE(Tag("nope", {{"a", "b"}}), kQueueDoesNotExist);
  EXPECT_CODE(Untag("nope", {"a"}), kQueueDoesNotExist);
  pb::ListQueueTagsRequest req;
  req.set_queue_name("nope");
  pb::ListQueueTagsResponse resp;
  EXPECT_CODE(engine().ListQueueTags(req, &resp), kQueueDoesNotExist);
}

TEST_P(TagsTest, DeadLetterSourcesAreTheQueuesWhosePolicyNamesIt) {
  ASSERT_OK(CreateQueue("dlq"));
  ASSERT_OK(CreateQueue("other-dlq"));
  ASSERT_OK(CreateQueue("b-src", {{"RedrivePolicy", RedrivePolicyJson("dlq", 3)}}));
  ASSERT_OK(CreateQueue("a-src", {{"RedrivePolicy", RedrivePolicyJson("dlq", 3)}}));
  ASSERT_OK(CreateQueue("c-src", {{"RedrivePolicy", RedrivePolicyJson("other-dlq", 3)}}));
  ASSERT_OK(CreateQueue("plain"));
  pb::ListDeadLetterSourceQueuesResponse resp;
  ASSERT_OK(Sources("dlq", 0, "", &resp));
  EXPECT_EQ(std::vector<std::string>(resp.queue_names().begin(), resp.queue_names().end()),
            (std::vector<std::string>{"a-src", "b-src"}));
  EXPECT_EQ(resp.next_token(), "");
  pb::ListDeadLetterSourceQueuesResponse none;
  ASSERT_OK(Sources("plain", 0, "", &none));
  EXPECT_EQ(none.queue_names_size(), 0);
  pb::ListDeadLetterSourceQueuesResponse missing;
  EXPECT_CODE(Sources("nope", 0, "", &missing), kQueueDoesNotExist);
}

TEST_P(TagsTest, DeadLetterSourcesComeInPages) {
  ASSERT_OK(CreateQueue("dlq"));
  for (const char* name : {"s1", "s2", "s3"}) {
    ASSERT_OK(CreateQueue(name, {{"RedrivePolicy", RedrivePolicyJson("dlq", 1)}}));
  }
  pb::ListDeadLetterSourceQueuesResponse first;
  ASSERT_OK(Sources("dlq", 2, "", &first));
  ASSERT_EQ(first.queue_names_size(), 2);
  EXPECT_EQ(first.next_token(), "s2");
  pb::ListDeadLetterSourceQueuesResponse second;
  ASSERT_OK(Sources("dlq", 2, first.next_token(), &second));
  ASSERT_EQ(second.queue_names_size(), 1);
  EXPECT_EQ(second.queue_names(0), "s3");
  EXPECT_EQ(second.next_token(), "");
  pb::ListDeadLetterSourceQueuesResponse too_many;
  EXPECT_CODE(Sources("dlq", 1001, "", &too_many), kInvalidParameterValue);
}

}  // namespace
}  // namespace sluice::testing
