// What a request beyond a limit is told: the details limits.h makes from its
// numbers, in the words the broker has always used (clients and scripts may
// match on them).
#include <gtest/gtest.h>

#include "broker/engine/limits.h"

namespace sluice::limits {
namespace {

TEST(LimitDetailsTest, RangesOfRequestParameters) {
  EXPECT_EQ(ReceiveMessagesDetail(), "MaxNumberOfMessages must be between 1 and 10");
  EXPECT_EQ(WaitTimeDetail(), "WaitTimeSeconds must be between 0 and 20");
  EXPECT_EQ(VisibilityTimeoutDetail(), "VisibilityTimeout must be between 0 and 43200");
  EXPECT_EQ(DelayDetail(), "DelaySeconds must be between 0 and 900");
  EXPECT_EQ(ListQueuesResultsDetail(), "MaxResults is at most 1000");
  EXPECT_EQ(MoveTaskRateDetail(), "MaxNumberOfMessagesPerSecond must be between 1 and 500");
  EXPECT_EQ(MoveTaskResultsDetail(), "MaxResults must be between 1 and 10");
}

TEST(LimitDetailsTest, NamesAndIds) {
  EXPECT_EQ(QueueNameLengthDetail(), "queue names are 1-80 characters");
  EXPECT_EQ(BatchEntryIdDetail("a b"),
            "batch entry id 'a b' must be 1-80 characters of A-Za-z0-9_-");
  EXPECT_EQ(FifoIdLengthDetail("MessageGroupId"), "MessageGroupId must be 1-128 characters");
  EXPECT_EQ(MessageAttributeNameLengthDetail(), "message attribute names are 1-256 characters");
}

TEST(LimitDetailsTest, SizesAndCounts) {
  EXPECT_EQ(BatchEntriesDetail(11), "a batch holds at most 10 entries, got 11");
  EXPECT_EQ(MessageAttributesDetail(), "a message holds at most 10 message attributes");
  EXPECT_EQ(MessageSizeDetail(2048, 1024),
            "the message is 2048 bytes; the queue's MaximumMessageSize is 1024");
  EXPECT_EQ(BatchSizeDetail(2048, 1024),
            "the batch's messages total 2048 bytes; the queue's MaximumMessageSize is 1024");
  EXPECT_EQ(InflightDetail(3), "the queue has 3 messages in flight, its limit");
  EXPECT_EQ(InvisibleSinceReceiveDetail(),
            "a message may stay invisible at most 12 hours after it was received");
}

}  // namespace
}  // namespace sluice::limits
