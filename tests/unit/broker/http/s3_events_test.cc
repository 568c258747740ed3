// The S3 notification endpoint's pure parts: a pushed event becomes batches
// of one message per ObjectCreated record, the queue comes from the path, and
// the pusher's token from a bearer header or the query.
#include "broker/http/s3_events.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "common/s3/event.h"

namespace sluice::http {
namespace {

using json = nlohmann::json;

// A record as Amazon S3 documents it ("Event message structure"), with the
// fields that vary as parameters.
json AwsRecord(const std::string& key, const std::string& etag = "d41d8cd98f00b204e9800998ecf8427e",
               const std::string& sequencer = "0055AED6DCD90281E5",
               const std::string& event_name = "ObjectCreated:Put",
               const std::string& bucket = "photos") {
  json record = json::parse(R"({
    "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-west-2",
    "eventTime": "1970-01-01T00:00:00.000Z",
    "userIdentity": {"principalId": "AIDAJDPLRKLG7UEXAMPLE"},
    "requestParameters": {"sourceIPAddress": "127.0.0.1"},
    "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810",
      "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
    "s3": {"s3SchemaVersion": "1.0", "configurationId": "testConfigRule",
      "bucket": {"name": "", "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                 "arn": "arn:aws:s3:::photos"},
      "object": {"key": "", "size": 1024, "eTag": "", "sequencer": ""}}})");
  record["eventName"] = event_name;
  record["s3"]["bucket"]["name"] = bucket;
  record["s3"]["object"]["key"] = key;
  record["s3"]["object"]["eTag"] = etag;
  record["s3"]["object"]["sequencer"] = sequencer;
  return record;
}

// A record as Ceph RGW pushes it: the key literally, eventSource "ceph:s3".
json RgwRecord(const std::string& key) {
  json record = AwsRecord(key, "5d41402abc4b2a76b9719d911017c592", "5A0D2266F3BF1E1D");
  record["eventSource"] = "ceph:s3";
  record["awsRegion"] = "default";
  return record;
}

std::string Body(const json& records) { return json{{"Records", records}}.dump(); }

S3EventBatches MustBatch(std::string_view queue, const std::string& body) {
  auto batches = S3EventToBatches(queue, body);
  EXPECT_TRUE(batches.ok()) << batches.error();
  return batches.ok() ? std::move(*batches) : S3EventBatches{};
}

// --- S3EventToBatches --------------------------------------------------------------

TEST(S3EventToBatchesTest, OneMessagePerCreatedRecord) {
  const json record = AwsRecord("pending/trip/cat.jpg");
  const S3EventBatches out = MustBatch("photos", Body(json::array({record})));
  EXPECT_FALSE(out.test_event);
  EXPECT_EQ(out.enqueue, 1u);
  EXPECT_EQ(out.skipped, 0u);
  ASSERT_EQ(out.batches.size(), 1u);
  const pb::SendMessageBatchRequest& batch = out.batches[0];
  EXPECT_EQ(batch.queue_name(), "photos");
  ASSERT_EQ(batch.entries_size(), 1);
  const pb::SendMessageEntry& entry = batch.entries(0);
  EXPECT_EQ(entry.id(), "0");
  EXPECT_EQ(entry.message_group_id(), "");
  // The record as sent, alone in an event of its own.
  const json body = json::parse(entry.body());
  EXPECT_EQ(body, json({{"Records", json::array({record})}}));
}

TEST(S3EventToBatchesTest, MessageBodyReparsesToTheSameKey) {
  const json records =
      json::array({AwsRecord("pending/a+b%2Bc%25.jpg"), RgwRecord("pending/a b+c%.jpg"),
                   RgwRecord("pending/caf\xC3\xA9.jpg")});
  const S3EventBatches out = MustBatch("photos", Body(records));
  ASSERT_EQ(out.batches.size(), 1u);
  ASSERT_EQ(out.batches[0].entries_size(), 3);
  const char* const want[] = {"pending/a b+c%.jpg", "pending/a b+c%.jpg",
                              "pending/caf\xC3\xA9.jpg"};
  for (int i = 0; i < 3; ++i) {
    const json body = json::parse(out.batches[0].entries(i).body());
    auto event = s3::ParseEvent(body);
    ASSERT_TRUE(event.ok()) << event.error();
    ASSERT_EQ(event->created.size(), 1u);
    EXPECT_EQ(event->created[0].bucket, "photos");
    EXPECT_EQ(event->created[0].key, want[i]) << i;
    EXPECT_EQ(out.batches[0].entries(i).message_deduplication_id(),
              s3::DeduplicationId(event->created[0]));
  }
}

TEST(S3EventToBatchesTest, TwentyFiveRecordsMakeBatchesOfTenTenFive) {
  json records = json::array();
  for (int i = 0; i < 25; ++i) {
    records.push_back(AwsRecord("pending/" + std::to_string(i) + ".jpg"));
  }
  const S3EventBatches out = MustBatch("photos", Body(records));
  EXPECT_EQ(out.enqueue, 25u);
  ASSERT_EQ(out.batches.size(), 3u);
  EXPECT_EQ(out.batches[0].entries_size(), 10);
  EXPECT_EQ(out.batches[1].entries_size(), 10);
  EXPECT_EQ(out.batches[2].entries_size(), 5);
  int n = 0;
  for (const pb::SendMessageBatchRequest& batch : out.batches) {
    EXPECT_EQ(batch.queue_name(), "photos");
    for (int i = 0; i < batch.entries_size(); ++i, ++n) {
      EXPECT_EQ(batch.entries(i).id(), std::to_string(i));
      // In the order of Records.
      const json body = json::parse(batch.entries(i).body());
      EXPECT_EQ(body["Records"][0]["s3"]["object"]["key"], "pending/" + std::to_string(n) + ".jpg");
    }
  }
}

TEST(S3EventToBatchesTest, ExactlyTenRecordsMakeOneBatch) {
  json records = json::array();
  for (int i = 0; i < 10; ++i) records.push_back(AwsRecord(std::to_string(i) + ".jpg"));
  const S3EventBatches out = MustBatch("photos", Body(records));
  ASSERT_EQ(out.batches.size(), 1u);
  EXPECT_EQ(out.batches[0].entries_size(), 10);
  EXPECT_EQ(out.batches[0].entries(9).id(), "9");
}

TEST(S3EventToBatchesTest, DeduplicationIdsAreStableAcrossRetries) {
  const std::string body =
      Body(json::array({AwsRecord("pending/a.jpg"), AwsRecord("pending/b.jpg")}));
  const S3EventBatches first = MustBatch("photos", body);
  const S3EventBatches retry = MustBatch("photos", body);
  ASSERT_EQ(first.batches.size(), 1u);
  ASSERT_EQ(retry.batches.size(), 1u);
  ASSERT_EQ(first.batches[0].entries_size(), 2);
  for (int i = 0; i < 2; ++i) {
    const std::string& id = first.batches[0].entries(i).message_deduplication_id();
    EXPECT_EQ(id, retry.batches[0].entries(i).message_deduplication_id());
    // SQS allows at most 128 characters.
    EXPECT_FALSE(id.empty());
    EXPECT_LE(id.size(), 128u);
  }
  EXPECT_NE(first.batches[0].entries(0).message_deduplication_id(),
            first.batches[0].entries(1).message_deduplication_id());
}

TEST(S3EventToBatchesTest, ReuploadAtTheSameKeyGetsANewDeduplicationId) {
  const json records = json::array({AwsRecord("pending/a.jpg", "etag1", "0001"),
                                    AwsRecord("pending/a.jpg", "etag2", "0002"),
                                    AwsRecord("pending/a.jpg", "etag1", "0003")});
  const S3EventBatches out = MustBatch("photos", Body(records));
  ASSERT_EQ(out.batches.size(), 1u);
  std::set<std::string> ids;
  for (const pb::SendMessageEntry& entry : out.batches[0].entries()) {
    ids.insert(entry.message_deduplication_id());
  }
  EXPECT_EQ(ids.size(), 3u);
}

TEST(S3EventToBatchesTest, FifoQueueGroupsByBucket) {
  const json records = json::array({AwsRecord("a.jpg", "e", "1", "ObjectCreated:Put", "photos"),
                                    AwsRecord("b.jpg", "e", "2", "ObjectCreated:Copy", "archive")});
  const S3EventBatches out = MustBatch("jobs.fifo", Body(records));
  ASSERT_EQ(out.batches.size(), 1u);
  EXPECT_EQ(out.batches[0].queue_name(), "jobs.fifo");
  ASSERT_EQ(out.batches[0].entries_size(), 2);
  EXPECT_EQ(out.batches[0].entries(0).message_group_id(), "photos");
  EXPECT_EQ(out.batches[0].entries(1).message_group_id(), "archive");
  EXPECT_FALSE(out.batches[0].entries(0).message_deduplication_id().empty());
}

TEST(S3EventToBatchesTest, StandardQueueHasNoGroup) {
  const S3EventBatches out = MustBatch("jobs-fifo", Body(json::array({AwsRecord("a.jpg")})));
  ASSERT_EQ(out.batches.size(), 1u);
  EXPECT_EQ(out.batches[0].entries(0).message_group_id(), "");
}

TEST(S3EventToBatchesTest, TestEventMakesNoBatches) {
  // What Amazon S3 sends when notifications are configured.
  const S3EventBatches out = MustBatch("photos", R"({"Service":"Amazon S3",
    "Event":"s3:TestEvent","Time":"2014-10-13T15:57:02.089Z","Bucket":"photos",
    "RequestId":"5582815E1AEA5ADF",
    "HostId":"8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"})");
  EXPECT_TRUE(out.test_event);
  EXPECT_TRUE(out.batches.empty());
  EXPECT_EQ(out.enqueue, 0u);
  EXPECT_EQ(out.skipped, 0u);
}

TEST(S3EventToBatchesTest, OtherKindsAreCountedAsSkipped) {
  const json records = json::array({AwsRecord("a.jpg", "e", "1", "ObjectRemoved:Delete"),
                                    AwsRecord("b.jpg", "e", "2", "s3:ObjectCreated:Put"),
                                    AwsRecord("c.jpg", "e", "3", "ObjectRestore:Completed"),
                                    AwsRecord("d.jpg", "e", "4", "s3:ObjectRemoved:Delete")});
  const S3EventBatches out = MustBatch("photos", Body(records));
  EXPECT_EQ(out.skipped, 3u);
  EXPECT_EQ(out.enqueue, 1u);
  ASSERT_EQ(out.batches.size(), 1u);
  ASSERT_EQ(out.batches[0].entries_size(), 1);
  EXPECT_EQ(out.batches[0].entries(0).id(), "0");
  const json body = json::parse(out.batches[0].entries(0).body());
  EXPECT_EQ(body["Records"][0]["s3"]["object"]["key"], "b.jpg");
}

TEST(S3EventToBatchesTest, OnlyOtherKindsMakeNoBatches) {
  const S3EventBatches out = MustBatch(
      "photos", Body(json::array({AwsRecord("a.jpg", "e", "1", "ObjectRemoved:Delete")})));
  EXPECT_FALSE(out.test_event);
  EXPECT_TRUE(out.batches.empty());
  EXPECT_EQ(out.enqueue, 0u);
  EXPECT_EQ(out.skipped, 1u);
}

TEST(S3EventToBatchesTest, EmptyRecordsMakeNoBatches) {
  const S3EventBatches out = MustBatch("photos", R"({"Records":[]})");
  EXPECT_TRUE(out.batches.empty());
  EXPECT_EQ(out.enqueue, 0u);
  EXPECT_EQ(out.skipped, 0u);
}

TEST(S3EventToBatchesTest, NotJsonIsAnError) {
  EXPECT_FALSE(S3EventToBatches("photos", "").ok());
  EXPECT_FALSE(S3EventToBatches("photos", "Records").ok());
  EXPECT_FALSE(S3EventToBatches("photos", R"({"Records":[)").ok());
  EXPECT_FALSE(S3EventToBatches("photos", "\xFF\xFE{}").ok());
}

TEST(S3EventToBatchesTest, NoRecordsIsAnError) {
  EXPECT_FALSE(S3EventToBatches("photos", "{}").ok());
  EXPECT_FALSE(S3EventToBatches("photos", "[]").ok());
  EXPECT_FALSE(S3EventToBatches("photos", "42").ok());
  EXPECT_FALSE(S3EventToBatches("photos", R"({"Event":"s3:ObjectCreated:Put"})").ok());
  EXPECT_FALSE(S3EventToBatches("photos", R"({"Type":"Notification","Message":"{}"})").ok());
}

TEST(S3EventToBatchesTest, RecordsNotAnArrayIsAnError) {
  EXPECT_FALSE(S3EventToBatches("photos", R"({"Records":{}})").ok());
  EXPECT_FALSE(S3EventToBatches("photos", R"({"Records":"x"})").ok());
  EXPECT_FALSE(S3EventToBatches("photos", R"({"Records":null})").ok());
}

TEST(S3EventToBatchesTest, CreatedRecordWithoutKeyIsAnError) {
  json record = AwsRecord("a.jpg");
  record["s3"]["object"].erase("key");
  EXPECT_FALSE(S3EventToBatches("photos", Body(json::array({record}))).ok());
  record["s3"]["object"]["key"] = 7;
  EXPECT_FALSE(S3EventToBatches("photos", Body(json::array({record}))).ok());
}

TEST(S3EventToBatchesTest, MalformedEscapeInAnAwsKeyIsAnError) {
  EXPECT_FALSE(S3EventToBatches("photos", Body(json::array({AwsRecord("100%.jpg")}))).ok());
}

TEST(S3EventToBatchesTest, WrongTypesNeverThrow) {
  const char* const bodies[] = {
      R"({"Records":[null, 1, "x", [], {}]})",
      R"({"Records":[{"eventName":5,"s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]})",
      R"({"Records":[{"eventName":"ObjectCreated:Put","s3":[]}]})",
      R"({"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":"b","object":"k"}}]})",
      R"({"Records":[{"eventName":"ObjectCreated:Put","eventSource":1,)"
      R"("s3":{"bucket":{"name":"b"},"object":{"key":"k","eTag":1,"sequencer":[]}}}]})",
      R"({"Event":5})",
      R"({"Event":"s3:TestEvent","Records":5})",
  };
  for (const char* body : bodies) {
    EXPECT_NO_THROW((void)S3EventToBatches("photos", body)) << body;
  }
}

// --- S3EventsQueue -----------------------------------------------------------------

TEST(S3EventsQueueTest, QueueFromThePath) {
  EXPECT_EQ(S3EventsQueue("/s3-events/photos"), "photos");
  EXPECT_EQ(S3EventsQueue("/s3-events/photos?token=x"), "photos");
  EXPECT_EQ(S3EventsQueue("/s3-events/jobs.fifo?token=x&y=z"), "jobs.fifo");
}

TEST(S3EventsQueueTest, QueueIsPercentDecoded) {
  EXPECT_EQ(S3EventsQueue("/s3-events/my%2Dqueue"), "my-queue");
  EXPECT_EQ(S3EventsQueue("/s3-events/a%5Fb?token=x"), "a_b");
  // A path is not form text: '+' stays '+'.
  EXPECT_EQ(S3EventsQueue("/s3-events/a+b"), "a+b");
}

TEST(S3EventsQueueTest, OtherPathsHaveNoQueue) {
  EXPECT_EQ(S3EventsQueue("/"), "");
  EXPECT_EQ(S3EventsQueue(""), "");
  EXPECT_EQ(S3EventsQueue("/s3-events"), "");
  EXPECT_EQ(S3EventsQueue("/s3-events/"), "");
  EXPECT_EQ(S3EventsQueue("/s3-events/?token=x"), "");
  EXPECT_EQ(S3EventsQueue("/queues/photos"), "");
  EXPECT_EQ(S3EventsQueue("/S3-EVENTS/photos"), "");
  EXPECT_EQ(S3EventsQueue("/x/s3-events/photos"), "");
  EXPECT_EQ(S3EventsQueue("?/s3-events/photos"), "");
}

TEST(S3EventsQueueTest, ExtraSegmentsHaveNoQueue) {
  EXPECT_EQ(S3EventsQueue("/s3-events/photos/"), "");
  EXPECT_EQ(S3EventsQueue("/s3-events/photos/more"), "");
  EXPECT_EQ(S3EventsQueue("/s3-events//photos"), "");
}

TEST(S3EventsQueueTest, MalformedEscapeHasNoQueue) {
  EXPECT_EQ(S3EventsQueue("/s3-events/pho%zztos"), "");
  EXPECT_EQ(S3EventsQueue("/s3-events/photos%"), "");
}

// --- S3EventsTokenMatches ----------------------------------------------------------

TEST(S3EventsTokenMatchesTest, BearerToken) {
  EXPECT_TRUE(S3EventsTokenMatches("s3cret", "Bearer s3cret", "/s3-events/photos"));
  // The scheme's name is case-insensitive.
  EXPECT_TRUE(S3EventsTokenMatches("s3cret", "bearer s3cret", "/s3-events/photos"));
  EXPECT_TRUE(S3EventsTokenMatches("s3cret", "BEARER s3cret", "/s3-events/photos"));
  EXPECT_FALSE(S3EventsTokenMatches("s3cret", "Bearer wrong", "/s3-events/photos"));
  EXPECT_FALSE(S3EventsTokenMatches("s3cret", "Bearer s3cre", "/s3-events/photos"));
  EXPECT_FALSE(S3EventsTokenMatches("s3cret", "Bearer s3cretx", "/s3-events/photos"));
  EXPECT_FALSE(S3EventsTokenMatches("s3cret", "Bearer ", "/s3-events/photos"));
  EXPECT_FALSE(S3EventsTokenMatches("s3cret", "s3cret", "/s3-events/photos"));
  EXPECT_FALSE(S3EventsTokenMatches("s3cret", "Basic czNjcmV0", "/s3-events/photos"));
}

TEST(S3EventsTokenMatchesTest, QueryToken) {
  EXPECT_TRUE(S3EventsTokenMatches("s3cret", "", "/s3-events/photos?token=s3cret"));
  EXPECT_FALSE(S3EventsTokenMatches("s3cret", "", "/s3-events/photos?token=wrong"));
  EXPECT_FALSE(S3EventsTokenMatches("s3cret", "", "/s3-events/photos?token=s3cre"));
  EXPECT_FALSE(S3EventsTokenMatches("s3cret", "", "/s3-events/photos?token="));
  EXPECT_FALSE(S3EventsTokenMatches("s3cret", "", "/s3-events/photos?token"));
  EXPECT_FALSE(S3EventsTokenMatches("s3cret", "", "/s3-events/photos"));
  EXPECT_FALSE(S3EventsTokenMatches("s3cret", "", "/s3-events/photos?"));
}

TEST(S3EventsTokenMatchesTest, QueryTokenAmongOtherParameters) {
  EXPECT_TRUE(S3EventsTokenMatches("s3cret", "", "/s3-events/photos?a=1&token=s3cret&b=2"));
  EXPECT_FALSE(S3EventsTokenMatches("s3cret", "", "/s3-events/photos?tokens=s3cret"));
  EXPECT_FALSE(S3EventsTokenMatches("s3cret", "", "/s3-events/photos?xtoken=s3cret"));
  EXPECT_FALSE(S3EventsTokenMatches("s3cret", "", "/s3-events/photos?a=s3cret"));
}

TEST(S3EventsTokenMatchesTest, QueryTokenIsPercentDecoded) {
  EXPECT_TRUE(S3EventsTokenMatches("a+b/c=", "", "/s3-events/photos?token=a%2Bb%2Fc%3D"));
  EXPECT_FALSE(S3EventsTokenMatches("a+b/c=", "", "/s3-events/photos?token=a%zz"));
}

TEST(S3EventsTokenMatchesTest, EmptyConfiguredTokenNeverMatches) {
  EXPECT_FALSE(S3EventsTokenMatches("", "", "/s3-events/photos"));
  EXPECT_FALSE(S3EventsTokenMatches("", "Bearer ", "/s3-events/photos"));
  EXPECT_FALSE(S3EventsTokenMatches("", "", "/s3-events/photos?token="));
  EXPECT_FALSE(S3EventsTokenMatches("", "", "/s3-events/photos?token"));
}

}  // namespace
}  // namespace sluice::http
