// Storage on a full disk: the reserve and DiskLow; writes that fail (a full
// disk, made with a file-size limit, or with a fake of the log's file
// calls) must give a compaction up without loss, and fail a turn without
// leaving any of it behind; on a disk that others filled, receives and
// deletes go on across a restart.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "broker/storage/storage.h"
#include "tests/unit/broker/storage/storage_test_util.h"

namespace sluice::testing {
namespace {

namespace fs = std::filesystem;

// --- The disk's free space -----------------------------------------------------------

TEST_F(StorageTest, DiskIsLowWhenFreeSpaceIsBelowTheReserve) {
  EXPECT_FALSE(storage_->DiskLow());  // reserve 0
  options_.reserve_bytes = std::numeric_limits<uint64_t>::max();
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_TRUE(storage_->DiskLow());
  storage_->RefreshDiskSpace();
  EXPECT_TRUE(storage_->DiskLow());
}

// --- Failed writes ------------------------------------------------------------------

// A compaction writes its copies in batches of its own, after the turn's:
// when they cannot be written (a full disk) the compaction is given up and
// the turn stands. The old segment stays, the messages whose copies were lost
// point at their bodies there again, and once there is room a compaction
// starts over and deletes the old segment.
//
// The file-size limit is on each file, so it can refuse the compaction's
// writes and not the turn's only if both go to the same segment. That rules
// out the usual case, where the run to compact ends with the segment the turn
// was written to: the compaction then ends that segment and writes to a new
// one, smaller than it, so any limit the turn fits under fits the copies too.
// Here the run is segment 1 alone (200 messages, 4 in 5 deleted): segment 2,
// the one appended to, holds 13 MB of live messages, which keep it out of the
// run, so the compaction writes in segment 2, right after the turn.
TEST_F(StorageTest, CompactionWhoseCopiesCannotBeWrittenIsAbandonedAndLosesNothing) {
  ASSERT_OK(CreateQueue("bulk"));  // compacted first
  ASSERT_OK(CreateQueue("live"));
  Fill("bulk", 200);
  ASSERT_NO_FATAL_FAILURE(Reopen());  // later records go to segment 2
  const std::multiset<std::string> live = Fill("live", 200);
  ASSERT_FALSE(storage_->Compacting());
  const std::multiset<std::string> kept = DeleteMost("bulk", 5);
  ASSERT_EQ(kept.size(), 40u);
  const std::vector<std::string> segments = {"0000000001.seg", "0000000002.seg"};
  ASSERT_EQ(SegmentFiles(), segments);
  const fs::path active = LogDir() / segments[1];
  const uint64_t before = fs::file_size(active);
  // Room in segment 2 for the turn's records (about 20 kB) and the
  // compaction's first batch (the meta and queue records), not for a slice
  // of copies (40 messages of 64 KiB to copy, 2 MiB a slice).
  const uint64_t limit = before + (256 << 10);

  testing::LogCapture logs;
  Status committed;
  {
    testing::FileSizeLimit guard(limit);
    committed = storage_->Commit();
  }
  ASSERT_OK(committed);
  // The compaction of segment 1 started, its copies failed, and it was given up.
  const std::vector<std::string> started = logs.Find("event=compaction_started");
  ASSERT_EQ(started.size(), 1u);
  EXPECT_NE(started[0].find("through_segment=1 "), std::string::npos) << started[0];
  const std::vector<std::string> abandoned = logs.Find("event=compaction_abandoned");
  ASSERT_EQ(abandoned.size(), 1u);
  EXPECT_NE(abandoned[0].find(std::strerror(EFBIG)), std::string::npos) << abandoned[0];
  EXPECT_TRUE(logs.Find("event=compaction_done").empty());
  EXPECT_FALSE(storage_->Compacting());
  EXPECT_EQ(SegmentFiles(), segments);
  // The turn was written; no part of the failed copies was left after it.
  const uint64_t after = fs::file_size(active);
  EXPECT_GT(after, before);
  EXPECT_LT(after, before + (64 << 10)) << "part of the compaction's copies is left in the log";

  // The messages whose copies were lost are read from segment 1 again. A
  // turn that receives them commits under the limit too.
  EXPECT_TRUE(ReceiveAllBodies("bulk", 30) == kept) << "the bodies changed";
  {
    testing::FileSizeLimit guard(limit);
    committed = storage_->Commit();
  }
  ASSERT_OK(committed);
  EXPECT_FALSE(storage_->Compacting());
  EXPECT_EQ(SegmentFiles(), segments);
  EXPECT_TRUE(logs.Find("event=compaction_done").empty());

  // With room again, the compaction starts over and finishes.
  storage_->RefreshDiskSpace();
  Commit();
  ASSERT_TRUE(storage_->Compacting()) << "no compaction started once the limit was lifted";
  FinishCompaction();
  EXPECT_EQ(logs.Find("event=compaction_done").size(), 1u);
  const std::vector<std::string> now = SegmentFiles();
  EXPECT_FALSE(std::binary_search(now.begin(), now.end(), segments[0]))
      << "segment 1 is still there";
  EXPECT_TRUE(std::binary_search(now.begin(), now.end(), segments[1]));

  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(SegmentFiles().front(), segments[1]);
  EXPECT_EQ(InFlight("bulk"), 40);
  EXPECT_EQ(Visible("live"), 200);
  AdvanceSeconds(30);
  std::multiset<std::string> bodies;
  for (const pb::Message& m : ReceiveAll("bulk")) {
    bodies.insert(m.body());
    EXPECT_EQ(Attr(m, "ApproximateReceiveCount"), "3");
  }
  EXPECT_TRUE(bodies == kept) << bodies.size() << " bodies, " << kept.size() << " expected";
  bodies = ReceiveAllBodies("live");
  EXPECT_TRUE(bodies == live) << bodies.size() << " bodies, " << live.size() << " expected";
}

// A turn whose own write fails (a full disk) fails its Commit: its answers
// are not sent and the broker stops. After a restart everything committed
// before is there, and nothing of the failed turn: none of its batch is left
// in the log, not even a torn tail to drop.
TEST_F(StorageTest, CommitWhoseWriteFailsReturnsAnErrorAndReopenRecoversWhatWasCommittedBefore) {
  ASSERT_OK(CreateQueue("q", {{"VisibilityTimeout", "40"}}));
  std::multiset<std::string> sent;
  for (int i = 0; i < 4; ++i) {
    sent.insert(Body("m", i, 1000));
    Send("q", Body("m", i, 1000));
  }
  const std::vector<pb::Message> in_flight = Receive("q", 1, 60);
  ASSERT_EQ(in_flight.size(), 1u);
  Commit();
  const Attributes attributes = GetAttributes("q");
  const fs::path segment = LastSegment();
  const uint64_t before = fs::file_size(segment);

  // The turn that fails: a send (64 KiB, so that half of the batch fits),
  // a new queue, a delete, a receive, a visibility change and a setting.
  Send("q", Body("lost", 0, 64 << 10));
  ASSERT_OK(CreateQueue("lost"));
  ASSERT_OK(DeleteMessage("q", in_flight[0].receipt_handle()));
  const std::vector<pb::Message> received = Receive("q", 2, 60);
  ASSERT_EQ(received.size(), 2u);
  ASSERT_OK(ChangeVisibility("q", received[0].receipt_handle(), 300));
  ASSERT_OK(SetAttributes("q", {{"VisibilityTimeout", "90"}}));
  Status committed;
  {
    testing::FileSizeLimit guard(before + (32 << 10));
    committed = storage_->Commit();
  }
  ASSERT_FALSE(committed.ok()) << "a commit past the file-size limit succeeded";
  EXPECT_EQ(committed.code(), StatusCode::kIOError);
  EXPECT_NE(committed.detail().find(std::strerror(EFBIG)), std::string::npos) << committed.detail();
  EXPECT_EQ(fs::file_size(segment), before) << "part of the failed turn is left in the log";

  testing::LogCapture logs;
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_TRUE(logs.Find("event=torn_tail_dropped").empty());
  EXPECT_EQ(QueueNames(), std::vector<std::string>{"q"});
  EXPECT_EQ(GetAttributes("q"), attributes);
  EXPECT_EQ(Visible("q"), 3);
  EXPECT_EQ(InFlight("q"), 1);
  AdvanceSeconds(60);
  std::multiset<std::string> bodies;
  for (const pb::Message& m : ReceiveAll("q")) {
    bodies.insert(m.body());
    EXPECT_EQ(Attr(m, "ApproximateReceiveCount"), m.body() == in_flight[0].body() ? "2" : "1")
        << m.body().substr(0, 10);
  }
  EXPECT_EQ(bodies, sent);
  // And the log goes on from there.
  Send("q", "after");
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(Visible("q") + InFlight("q"), 5);
}

// --- A full disk, played by a fake of the log's file calls ----------------------------

// What the integration test DiskFullTest.AFilesystemFilledByOthersStill...
// checks on a tmpfs (which needs root), with a fake disk: on a disk that
// others filled after the log reserved its segments, DiskLow says so, and
// receives and deletes are committed, a turn each, across a restart.
TEST_F(StorageTest, AFakeDiskFilledByOthersStillTakesReceivesAndDeletesAcrossARestart) {
  FakeDisk disk(uint64_t{1} << 40);
  options_.files = &disk;
  options_.free_space = [&disk] { return std::optional<uint64_t>(disk.free_bytes()); };
  options_.reserve_bytes = 16 << 20;
  ASSERT_NO_FATAL_FAILURE(Reopen());
  ASSERT_OK(CreateQueue("q"));
  const std::multiset<std::string> sent = Fill("q", 400, 2000);
  disk.set_free(0);
  storage_->RefreshDiskSpace();
  EXPECT_TRUE(storage_->DiskLow());

  std::multiset<std::string> deleted;
  auto drain = [&](size_t limit) {
    while (deleted.size() < limit) {
      const std::vector<pb::Message> got = Receive("q", 1, 30);
      ASSERT_OK(storage_->Commit());
      if (got.empty()) return;
      ASSERT_OK(DeleteMessage("q", got[0].receipt_handle()));
      ASSERT_OK(storage_->Commit());
      deleted.insert(got[0].body());
    }
  };
  // Half the messages on the full disk; then a restart on it, and the rest.
  ASSERT_NO_FATAL_FAILURE(drain(200));
  ASSERT_EQ(deleted.size(), 200u);
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_TRUE(storage_->DiskLow());
  ASSERT_NO_FATAL_FAILURE(drain(SIZE_MAX));
  EXPECT_EQ(deleted, sent);
  Close();
}

}  // namespace
}  // namespace sluice::testing
