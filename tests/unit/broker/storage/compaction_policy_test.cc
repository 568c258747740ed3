// The compaction policy without files: from segment sizes and live counts,
// the run it picks, and the logs it leaves alone.
#include "broker/storage/compaction_policy.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace sluice {
namespace {

constexpr uint64_t kMiB = 1 << 20;

class CompactionPolicyTest : public ::testing::Test {
 protected:
  std::optional<CompactionRun> Pick() {
    space_.segments = segments_;
    space_.live = &live_;
    return PickCompactionRun(space_);
  }
  void Live(uint32_t segment, uint64_t bytes, uint64_t messages = 1) {
    live_[segment] = LiveInSegment{bytes, messages};
  }

  std::vector<std::pair<uint32_t, uint64_t>> segments_;
  LiveBySegment live_;
  LogSpace space_;
};

TEST_F(CompactionPolicyTest, SmallLogIsLeftAlone) {
  segments_ = {{1, 3 * kMiB}, {2, 1 * kMiB}};
  EXPECT_FALSE(Pick());
}

TEST_F(CompactionPolicyTest, DeadSegmentsAtTheHeadGoWhateverTheSlack) {
  space_.copy_slack_bytes = 1ull << 40;
  segments_ = {{4, 5 * kMiB}, {5, 5 * kMiB}, {6, 1 * kMiB}};
  Live(6, 100, 1);
  auto run = Pick();
  ASSERT_TRUE(run);
  EXPECT_EQ(run->boundary, 5u);
  EXPECT_EQ(run->copy_bytes, 0u);

  // The segment appended to is dead too: the run takes it.
  Live(6, 0, 0);
  run = Pick();
  ASSERT_TRUE(run);
  EXPECT_EQ(run->boundary, 6u);
}

TEST_F(CompactionPolicyTest, DeadRunMustFreeMoreThanTheQueuesAndIdsItRewrites) {
  segments_ = {{1, kCompactMinGarbageBytes}, {2, kMiB}};
  Live(2, kMiB, 1);
  auto run = Pick();
  ASSERT_TRUE(run);
  EXPECT_EQ(run->boundary, 1u);

  space_.queues = 1;
  EXPECT_FALSE(Pick()) << "a run that frees less than the queue records it rewrites";
  space_.queues = 0;
  space_.dedup_bytes = 1;
  EXPECT_FALSE(Pick()) << "a run that frees less than the ids it rewrites";
  segments_[0].second += 1;
  run = Pick();
  ASSERT_TRUE(run);
  EXPECT_EQ(run->copy_bytes, 1u) << "the ids are copied";
}

TEST_F(CompactionPolicyTest, LongestRunWhoseGarbageOutweighsItsLiveMessagesByTheSlack) {
  segments_ = {{1, 64 * kMiB}, {2, 64 * kMiB}, {3, 64 * kMiB}, {4, kMiB}};
  Live(1, 10 * kMiB);
  Live(2, 50 * kMiB);
  Live(3, 64 * kMiB);
  Live(4, kMiB);
  // Segment 1: 54 MiB of garbage, 10 live. Through 2: 68 garbage, 60 live.
  // Through 3: 68 garbage, 124 live.
  auto run = Pick();
  ASSERT_TRUE(run);
  EXPECT_EQ(run->boundary, 2u);
  EXPECT_EQ(run->copy_bytes, 60 * kMiB);

  // With a slack of 20 MiB only segment 1 qualifies.
  space_.copy_slack_bytes = 20 * kMiB;
  run = Pick();
  ASSERT_TRUE(run);
  EXPECT_EQ(run->boundary, 1u);
  EXPECT_EQ(run->copy_bytes, 10 * kMiB);

  space_.copy_slack_bytes = 128 * kMiB;
  EXPECT_FALSE(Pick());
}

TEST_F(CompactionPolicyTest, QueueConsumedInOrderIsNotCopiedWithTheDefaultSlack) {
  // The oldest segment half consumed, the rest live.
  space_.copy_slack_bytes = 128 * kMiB;
  segments_ = {{1, 64 * kMiB}, {2, 64 * kMiB}, {3, 64 * kMiB}};
  Live(1, 32 * kMiB);
  Live(2, 64 * kMiB);
  Live(3, 64 * kMiB);
  EXPECT_FALSE(Pick());
}

TEST_F(CompactionPolicyTest, DeduplicationIdsCountAsWhatARunCopies) {
  segments_ = {{1, 64 * kMiB}, {2, kMiB}};
  Live(1, 15 * kMiB);
  Live(2, kMiB);
  space_.dedup_bytes = 25 * kMiB;
  // 49 MiB of garbage against 16 live and 25 of ids.
  auto run = Pick();
  ASSERT_TRUE(run);
  EXPECT_EQ(run->boundary, 2u);
  EXPECT_EQ(run->copy_bytes, 41 * kMiB);
  space_.copy_slack_bytes = 20 * kMiB;
  EXPECT_FALSE(Pick());
}

}  // namespace
}  // namespace sluice
