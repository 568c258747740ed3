// Storage's compaction: old segments are deleted without losing a live
// message, also when messages change or move between queues while it runs,
// and across a reopen in the middle of one. The policy that picks the run is
// tested on its own in compaction_policy_test.cc.
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

// --- Compaction ---------------------------------------------------------------------

TEST_F(StorageTest, CompactionDeletesOldSegmentsAndKeepsEveryLiveMessage) {
  ASSERT_OK(CreateQueue("bulk"));
  const std::multiset<std::string> kept = FillAndDeleteMost("bulk", 200, 5);
  const std::vector<std::string> old_segments = SegmentFiles();
  const uint64_t disk_before = DiskBytes();
  Commit();
  ASSERT_TRUE(storage_->Compacting()) << "deleting 80% of a 13 MB log did not start a compaction";
  // The live messages (2.6 MB) take more than the slice of the first commit.
  EXPECT_GE(FinishCompaction(), 1);

  const std::vector<std::string> now = SegmentFiles();
  for (const std::string& name : old_segments) {
    EXPECT_FALSE(std::binary_search(now.begin(), now.end(), name)) << name << " is still there";
  }
  const uint64_t disk_after = DiskBytes();
  EXPECT_LT(disk_after, disk_before / 3) << disk_before << " -> " << disk_after;
  EXPECT_GT(disk_after, 40u * (64 << 10));  // the live bodies are in there
  EXPECT_EQ(Visible("bulk"), 40);

  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(Visible("bulk"), 40);
  std::vector<pb::Message> got = ReceiveAll("bulk");
  std::multiset<std::string> bodies;
  for (const pb::Message& m : got) {
    bodies.insert(m.body());
    EXPECT_EQ(Attr(m, "ApproximateReceiveCount"), "2");
  }
  EXPECT_TRUE(bodies == kept) << bodies.size() << " bodies, " << kept.size() << " expected";
  // And the deleted ones stay deleted.
  AdvanceSeconds(30);
  EXPECT_EQ(Visible("bulk"), 40);
}

TEST_F(StorageTest, MessagesPastTheirRetentionGiveTheirSpaceBack) {
  ASSERT_OK(CreateQueue("short", {{"MessageRetentionPeriod", "60"}}));
  Fill("short", 200);
  const std::vector<std::string> old_segments = SegmentFiles();
  const uint64_t disk_before = DiskBytes();
  ASSERT_GT(disk_before, 200u * (64 << 10));
  AdvanceSeconds(61);
  engine().Tick();  // the server's tick: retention removes every message
  EXPECT_EQ(Visible("short"), 0);
  Commit();
  ASSERT_TRUE(storage_->Compacting() || SegmentFiles() != old_segments)
      << "expired messages did not start a compaction";
  FinishCompaction();
  const std::vector<std::string> now = SegmentFiles();
  for (const std::string& name : old_segments) {
    EXPECT_FALSE(std::binary_search(now.begin(), now.end(), name)) << name << " is still there";
  }
  EXPECT_LT(DiskBytes(), 64u << 10) << disk_before << " -> " << DiskBytes();
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(Visible("short") + InFlight("short"), 0);
}

TEST_F(StorageTest, DeadRunAtTheHeadIsDroppedInTheTurnThatFreedItWithoutWalkingTheQueues) {
  ASSERT_OK(CreateQueue("old"));
  ASSERT_OK(CreateQueue("new"));
  Fill("old", 200);  // 13 MB in the first segment
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  // More messages than a compaction looks at in a turn, in the second
  // segment, which stays; a walk to their end would take several turns.
  std::multiset<std::string> fresh;
  for (int i = 0; i < 2 * 16384 + 1000; ++i) {  // 16,384 a turn: kCompactSliceMessages
    fresh.insert(Body("new", i, 16));
    Send("new", Body("new", i, 16));
  }
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  const std::string first_segment = SegmentFiles().front();

  testing::LogCapture logs;
  for (const pb::Message& m : ReceiveAll("old"))
    ASSERT_OK(DeleteMessage("old", m.receipt_handle()));
  Commit();
  // The compaction started, had nothing to copy and deleted the first
  // segment, all in the turn that freed it; it ends in the next, once the
  // file is closed after the turn.
  const std::vector<std::string> started = logs.Find("event=compaction_started");
  ASSERT_EQ(started.size(), 1u);
  EXPECT_NE(started[0].find("copy_bytes=0 "), std::string::npos) << started[0];
  EXPECT_TRUE(logs.Find("event=compaction_done").empty());
  storage_->CloseOneDeletedSegment();
  Commit();
  EXPECT_EQ(logs.Find("event=compaction_done").size(), 1u);
  EXPECT_FALSE(storage_->Compacting());
  EXPECT_TRUE(logs.Find("event=live_count_mismatch").empty());
  const std::vector<std::string> now = SegmentFiles();
  EXPECT_FALSE(std::binary_search(now.begin(), now.end(), first_segment));

  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(Visible("old"), 0);
  EXPECT_EQ(Visible("new"), static_cast<int64_t>(fresh.size()));
  for (const pb::Message& m : Receive("new", 10, 30)) EXPECT_TRUE(fresh.contains(m.body()));
}

// Open descriptors of segments already deleted (their pages still cached).
int DeletedSegmentsOpen() {
  int open = 0;
  for (const auto& fd : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const std::string target = fs::read_symlink(fd.path(), ec).string();
    if (!ec && target.find(".seg (deleted)") != std::string::npos) ++open;
  }
  return open;
}

TEST_F(StorageTest, ACompactionClosesTheSegmentsItDeletesOneATurn) {
  ASSERT_OK(CreateQueue("old"));
  // Every start begins a segment: three segments of old messages.
  for (int s = 0; s < 3; ++s) {
    Fill("old", 50);
    ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  }
  const std::vector<std::string> old_segments = SegmentFiles();
  for (const pb::Message& m : ReceiveAll("old"))
    ASSERT_OK(DeleteMessage("old", m.receipt_handle()));
  Commit();
  // All deleted in the turn that freed them, then closed one after each turn
  // (closing a deleted file drops its cached pages, which takes time); the
  // compaction ends in the first commit after the last.
  const std::vector<std::string> now = SegmentFiles();
  for (const std::string& name : old_segments) {
    EXPECT_FALSE(std::binary_search(now.begin(), now.end(), name)) << name << " is still there";
  }
  const int open = DeletedSegmentsOpen();
  ASSERT_GE(open, 3);  // the three of old messages (and the one ended)
  for (int closed = 1; closed <= open; ++closed) {
    EXPECT_TRUE(storage_->Compacting());
    storage_->CloseOneDeletedSegment();
    EXPECT_EQ(DeletedSegmentsOpen(), open - closed);
    Commit();
  }
  EXPECT_FALSE(storage_->Compacting());
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(Visible("old"), 0);
}

TEST_F(StorageTest, ARunFreedWhileACompactionEndsIsCompactedWithoutAnotherWrite) {
  ASSERT_OK(CreateQueue("a"));
  ASSERT_OK(CreateQueue("b"));
  for (const char* queue : {"a", "b"}) {
    for (int s = 0; s < 3; ++s) {
      Fill(queue, 50);
      ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
    }
  }
  testing::LogCapture logs;
  for (const pb::Message& m : ReceiveAll("a")) ASSERT_OK(DeleteMessage("a", m.receipt_handle()));
  Commit();
  ASSERT_TRUE(storage_->Compacting());
  // b's segments die while a's are being closed: too late for that run.
  for (const pb::Message& m : ReceiveAll("b")) ASSERT_OK(DeleteMessage("b", m.receipt_handle()));
  Commit();
  ASSERT_EQ(logs.Find("event=compaction_started").size(), 1u);
  // Then only the server's turns, with nothing written: the next compaction
  // starts as the first ends.
  for (int turn = 0; turn < 100 && logs.Find("event=compaction_started").size() < 2; ++turn) {
    storage_->CloseOneDeletedSegment();
    if (storage_->HasPending()) Commit();
  }
  EXPECT_EQ(logs.Find("event=compaction_started").size(), 2u);
  FinishCompaction();
  EXPECT_EQ(Visible("a") + Visible("b"), 0);
  EXPECT_LT(DiskBytes(), 1u << 20);
}

TEST_F(StorageTest, CompactionOfAQueueConsumedInOrderCopiesNothing) {
  options_.copy_slack_bytes = StorageOptions{}.copy_slack_bytes;
  ASSERT_NO_FATAL_FAILURE(Reopen());
  ASSERT_OK(CreateQueue("q"));
  // Three segments of 150 messages (9.8 MB each).
  std::vector<std::string> sent;
  std::vector<std::string> segments;
  for (int segment = 0; segment < 3; ++segment) {
    segments.push_back(SegmentFiles().back());
    for (int i = 0; i < 150; ++i) {
      sent.push_back(Body("q", segment * 150 + i, 64 << 10));
      Send("q", sent.back());
    }
    ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  }
  // Consumed oldest first: the first segment and a third of the second.
  testing::LogCapture logs;
  std::multiset<std::string> left(sent.begin() + 200, sent.end());
  for (int deleted = 0; deleted < 200;) {
    for (const pb::Message& m : Receive("q", 10, 30)) {
      ASSERT_OK(DeleteMessage("q", m.receipt_handle()));
      ++deleted;
    }
    ASSERT_NO_FATAL_FAILURE(Commit());
  }
  FinishCompaction();
  // The dead first segment went without a copy; the second, a third dead,
  // stays as it is (with no slack it would have been copied).
  const std::vector<std::string> started = logs.Find("event=compaction_started");
  ASSERT_EQ(started.size(), 1u);
  EXPECT_NE(started[0].find("copy_bytes=0 "), std::string::npos) << started[0];
  const std::vector<std::string> now = SegmentFiles();
  EXPECT_FALSE(std::binary_search(now.begin(), now.end(), segments[0]));
  EXPECT_TRUE(std::binary_search(now.begin(), now.end(), segments[1]));

  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(ReceiveAllBodies("q"), left);
}

TEST_F(StorageTest, CompactionWaitsForDiskSpaceForItsCopiesThenRuns) {
  uint64_t free_space = 1 << 20;  // less than the copies and 8 MiB
  options_.free_space = [&free_space] { return free_space; };
  ASSERT_NO_FATAL_FAILURE(Reopen());
  ASSERT_OK(CreateQueue("bulk"));
  const std::multiset<std::string> kept = FillAndDeleteMost("bulk", 200, 5);
  const std::vector<std::string> old_segments = SegmentFiles();

  testing::LogCapture logs;
  for (int turn = 0; turn < 3; ++turn) Commit();
  EXPECT_FALSE(storage_->Compacting());
  // Logged once, with what it needs, however many turns it waits.
  const std::vector<std::string> deferred = logs.Find("event=compaction_deferred");
  ASSERT_EQ(deferred.size(), 1u);
  EXPECT_NE(deferred[0].find("free_bytes=1048576 needed_bytes="), std::string::npos) << deferred[0];
  EXPECT_TRUE(logs.Find("event=compaction_started").empty());
  EXPECT_EQ(SegmentFiles(), old_segments);

  // Room again, seen at the next look at the disk: it runs.
  free_space = 1ull << 30;
  storage_->RefreshDiskSpace();
  Commit();
  EXPECT_EQ(logs.Find("event=compaction_started").size(), 1u);
  FinishCompaction();
  EXPECT_EQ(logs.Find("event=compaction_done").size(), 1u);
  const std::vector<std::string> now = SegmentFiles();
  EXPECT_FALSE(std::binary_search(now.begin(), now.end(), old_segments.front()));
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  AdvanceSeconds(60);
  EXPECT_EQ(ReceiveAllBodies("bulk"), kept);
}

TEST_F(StorageTest, CompactionDoesNotStartAgainWhenNothingChanged) {
  ASSERT_OK(CreateQueue("bulk"));
  FillAndDeleteMost("bulk", 200, 5);
  Commit();
  ASSERT_TRUE(storage_->Compacting());
  FinishCompaction();
  const std::vector<std::string> segments = SegmentFiles();
  for (int i = 0; i < 3; ++i) {
    Commit();
    EXPECT_FALSE(storage_->Compacting()) << "commit " << i << " after the compaction";
  }
  EXPECT_EQ(SegmentFiles(), segments);
}

// The rule that starts a compaction compares the log with an estimate of the
// live data. Once a compaction has rewritten only live data, the next commit
// must not find the log worth compacting again, whatever the messages hold;
// else the broker rewrites its whole log turn after turn.
TEST_F(StorageTest, CompactionOfMessagesWithLargeAttributesDoesNotRepeatForever) {
  ASSERT_OK(CreateQueue("q"));
  std::map<std::string, std::string> blobs;
  for (int i = 0; i < 12; ++i) {
    pb::SendMessageEntry e = Entry("m" + std::to_string(i));
    const std::string blob = Body("blob", i, 900 << 10);
    (*e.mutable_message_attributes())["blob"] = BinaryAttr(blob);
    blobs[e.body()] = blob;
    Send("q", e);
    Commit();
  }
  FinishCompaction();
  // A compaction this small runs within one commit: it shows in the segment
  // files, which it replaces.
  const std::vector<std::string> segments = SegmentFiles();
  for (int i = 0; i < 3; ++i) {
    Commit();
    FinishCompaction();
    EXPECT_EQ(SegmentFiles(), segments) << "commit " << i << " with nothing changed compacted "
                                        << DiskBytes() << " bytes of live messages again";
  }
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  std::vector<pb::Message> got = ReceiveAll("q");
  ASSERT_EQ(got.size(), 12u);
  for (const pb::Message& m : got) {
    EXPECT_TRUE(m.message_attributes().at("blob").binary_value() == blobs[m.body()]) << m.body();
  }
}

TEST_F(StorageTest, CompactionKeepsQueueSettingsCountersAndDeduplicationIds) {
  ASSERT_OK(CreateQueue("orders.fifo", {{"VisibilityTimeout", "77"}}));
  ASSERT_OK(CreateQueue("jobs", {{"DelaySeconds", "0"}, {"MessageRetentionPeriod", "86400"}}));
  ASSERT_OK(CreateQueue("bulk"));
  std::map<std::string, pb::SendMessageResult> sent;
  sent["a1"] = Send("orders.fifo", FifoEntry("a1", "g1"));
  sent["a2"] = Send("orders.fifo", FifoEntry("a2", "g1"));
  pb::SendMessageEntry job = Entry("job");
  job.set_message_deduplication_id("job-1");
  sent["job"] = Send("jobs", job);
  Commit();
  std::map<std::string, Attributes> before;
  for (const char* name : {"orders.fifo", "jobs"}) before[name] = GetAttributes(name);

  FillAndDeleteMost("bulk", 200, 5);
  Commit();
  ASSERT_TRUE(storage_->Compacting());
  FinishCompaction();
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());

  for (const char* name : {"orders.fifo", "jobs"}) {
    EXPECT_EQ(GetAttributes(name), before[name]) << name;
  }
  EXPECT_EQ(Send("orders.fifo", FifoEntry("a2", "g1")).message_id(), sent["a2"].message_id());
  EXPECT_EQ(Send("jobs", job).message_id(), sent["job"].message_id());
  const pb::SendMessageResult a3 = Send("orders.fifo", FifoEntry("a3", "g1"));
  EXPECT_GT(a3.sequence_number(), sent["a2"].sequence_number());
  EXPECT_EQ(ReceiveBodies("orders.fifo"), (std::vector<std::string>{"a1", "a2", "a3"}));
  EXPECT_EQ(ReceiveAllBodies("jobs"), std::multiset<std::string>{"job"});
}

TEST_F(StorageTest, CompactionKeepsMessageMoveTasks) {
  ASSERT_NO_FATAL_FAILURE(DeadLetterInto(4));
  std::string handle;
  ASSERT_OK(StartMoveTask("dlq", /*rate=*/1, &handle));
  ASSERT_OK(CreateQueue("bulk"));
  Commit();
  const std::string first_segment = SegmentFiles().front();

  FillAndDeleteMost("bulk", 200, 5);
  Commit();
  ASSERT_TRUE(storage_->Compacting());
  FinishCompaction();
  // The segment that held the task's only record is gone.
  ASSERT_NE(SegmentFiles().front(), first_segment);
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());

  std::vector<pb::MessageMoveTask> tasks = MoveTasksOf("dlq");
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].task_handle(), handle);
  EXPECT_EQ(tasks[0].status(), "RUNNING");
  EXPECT_EQ(tasks[0].approximate_number_of_messages_moved(), 1);
}

TEST_F(StorageTest, ChangesMadeWhileACompactionRunsSurviveIt) {
  ASSERT_OK(CreateQueue("bulk"));  // copied first: its 2.6 MB outlast the first slice
  ASSERT_OK(CreateQueue("late"));
  for (int i = 0; i < 4; ++i) Send("late", Body("late", i));
  Commit();
  FillAndDeleteMost("bulk", 200, 5);
  Commit();
  ASSERT_TRUE(storage_->Compacting());

  // Between slices, before the compaction reaches "late": receive two of its
  // messages, delete a third, send another.
  std::vector<pb::Message> got = Receive("late", 3, 60);
  ASSERT_EQ(got.size(), 3u);
  ASSERT_OK(DeleteMessage("late", got[2].receipt_handle()));
  Send("late", "sent during the compaction");
  ASSERT_TRUE(storage_->Compacting());
  FinishCompaction();

  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(InFlight("late"), 2);
  EXPECT_EQ(Visible("late"), 2);
  AdvanceSeconds(60);
  std::multiset<std::string> bodies;
  for (const pb::Message& m : ReceiveAll("late")) {
    bodies.insert(m.body());
    const bool received_before = m.body() == got[0].body() || m.body() == got[1].body();
    EXPECT_EQ(Attr(m, "ApproximateReceiveCount"), received_before ? "2" : "1") << m.body();
  }
  EXPECT_EQ(bodies, (std::multiset<std::string>{got[0].body(), got[1].body(), Body("late", 3),
                                                "sent during the compaction"}));
}

TEST_F(StorageTest, QueueDeletedWhileACompactionRunsStaysDeleted) {
  ASSERT_OK(CreateQueue("bulk"));
  ASSERT_OK(CreateQueue("gone"));
  for (int i = 0; i < 5; ++i) Send("gone", Body("gone", i));
  Commit();
  const std::multiset<std::string> kept = FillAndDeleteMost("bulk", 200, 5);
  Commit();
  ASSERT_TRUE(storage_->Compacting());
  ASSERT_OK(DeleteQueue("gone"));
  FinishCompaction();
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_CODE(GetQueueUrl("gone"), kQueueDoesNotExist);
  EXPECT_EQ(QueueNames(), std::vector<std::string>{"bulk"});
  EXPECT_TRUE(ReceiveAllBodies("bulk") == kept);
}

TEST_F(StorageTest, PurgeWhileACompactionRunsStaysPurgedAndOutlivesItsSegment) {
  ASSERT_OK(CreateQueue("bulk"));
  ASSERT_OK(CreateQueue("purged"));
  const std::multiset<std::string> kept = FillAndDeleteMost("bulk", 200, 5);
  Commit();
  ASSERT_TRUE(storage_->Compacting());
  // Sent after the compaction's run was chosen: only the purge record keeps
  // them from coming back.
  for (int i = 0; i < 5; ++i) Send("purged", Body("purged", i));
  Commit();
  ASSERT_OK(Purge("purged"));
  Send("purged", "after the purge");
  FinishCompaction();
  const std::string purge_segment = SegmentFiles().back();
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(Visible("purged"), 1);

  // A later compaction takes in the purge record's segment: what it purged
  // stays gone, and what came after it stays.
  ASSERT_OK(CreateQueue("bulk2"));
  const std::multiset<std::string> kept_too = FillAndDeleteMost("bulk2", 200, 5);
  Commit();
  if (storage_->Compacting()) FinishCompaction();
  const std::vector<std::string> now = SegmentFiles();
  ASSERT_FALSE(std::binary_search(now.begin(), now.end(), purge_segment))
      << purge_segment << ", which holds the purge record, is still there";
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(ReceiveAllBodies("purged"), std::multiset<std::string>{"after the purge"});
  EXPECT_TRUE(ReceiveAllBodies("bulk") == kept);
  EXPECT_TRUE(ReceiveAllBodies("bulk2") == kept_too);
}

TEST_F(StorageTest, ReopenInTheMiddleOfACompactionLosesNothing) {
  ASSERT_OK(CreateQueue("bulk"));
  const std::multiset<std::string> kept = FillAndDeleteMost("bulk", 200, 5);
  const std::vector<std::string> old_segments = SegmentFiles();
  Commit();
  ASSERT_TRUE(storage_->Compacting());
  ASSERT_NO_FATAL_FAILURE(Reopen());  // as a crash would, with old and new segments there
  EXPECT_EQ(Visible("bulk"), 40);
  EXPECT_FALSE(storage_->Compacting());

  // The garbage is still there; the next commit compacts it.
  Commit();
  ASSERT_TRUE(storage_->Compacting());
  FinishCompaction();
  const std::vector<std::string> now = SegmentFiles();
  for (const std::string& name : old_segments) {
    EXPECT_FALSE(std::binary_search(now.begin(), now.end(), name)) << name << " is still there";
  }
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_TRUE(ReceiveAllBodies("bulk") == kept);
}

// A dead-letter move during a compaction, of a message the compaction has not
// copied yet (its body is in a segment about to be deleted) into a queue the
// compaction has already been through (so it will not copy it later either).
// Queues are compacted in the order they were created: "dlq", then "bulk",
// whose 2.6 MB take more than the first commit's slice, then "src".
TEST_F(StorageTest, DeadLetterMoveWhileACompactionRunsKeepsItsBody) {
  ASSERT_OK(CreateQueue("dlq"));
  ASSERT_OK(CreateQueue("bulk"));
  ASSERT_OK(CreateQueue("src", {{"RedrivePolicy", RedrivePolicyJson("dlq", 1)}}));
  const std::string poison = Body("poison", 0, 10'000);
  Send("src", poison);
  ASSERT_EQ(Receive("src", 1, 10).size(), 1u);
  Commit();
  FillAndDeleteMost("bulk", 200, 5);
  const std::vector<std::string> old_segments = SegmentFiles();
  Commit();
  ASSERT_TRUE(storage_->Compacting());

  AdvanceSeconds(10);
  EXPECT_TRUE(Receive("src").empty());  // moved instead
  ASSERT_EQ(Visible("dlq"), 1);
  ASSERT_TRUE(storage_->Compacting());
  FinishCompaction();
  const std::vector<std::string> now = SegmentFiles();
  for (const std::string& name : old_segments) {
    ASSERT_FALSE(std::binary_search(now.begin(), now.end(), name)) << name << " is still there";
  }

  std::vector<pb::Message> got = Receive("dlq", 1, 10);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].body() == poison)
      << "body after the compaction: '" << got[0].body().substr(0, 40) << "'";
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  AdvanceSeconds(10);
  got = Receive("dlq");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].body() == poison)
      << "body after reopen: '" << got[0].body().substr(0, 40) << "'";
  EXPECT_EQ(Attr(got[0], "ApproximateReceiveCount"), "2");
  EXPECT_EQ(Attr(got[0], "DeadLetterQueueSourceArn"), ArnFormat{}.Of("src"));
}

// The same, for a message the compaction has already copied.
TEST_F(StorageTest, DeadLetterMoveOfAMessageTheCompactionCopiedKeepsItsBody) {
  ASSERT_OK(CreateQueue("dlq"));
  ASSERT_OK(CreateQueue("src", {{"RedrivePolicy", RedrivePolicyJson("dlq", 1)}}));
  ASSERT_OK(CreateQueue("bulk"));  // compacted last
  const std::string poison = Body("poison", 0, 10'000);
  Send("src", poison);
  ASSERT_EQ(Receive("src", 1, 10).size(), 1u);
  Commit();
  FillAndDeleteMost("bulk", 200, 5);
  Commit();
  ASSERT_TRUE(storage_->Compacting());

  AdvanceSeconds(10);
  EXPECT_TRUE(Receive("src").empty());
  ASSERT_EQ(Visible("dlq"), 1);
  ASSERT_TRUE(storage_->Compacting());
  FinishCompaction();
  std::vector<pb::Message> got = Receive("dlq", 1, 10);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].body() == poison);
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  AdvanceSeconds(10);
  got = Receive("dlq");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].body() == poison);
}

// A move in the very turn whose commit starts the compaction.
TEST_F(StorageTest, DeadLetterMoveInTheTurnThatStartsACompactionKeepsItsBody) {
  ASSERT_OK(CreateQueue("bulk"));
  ASSERT_OK(CreateQueue("dlq"));
  ASSERT_OK(CreateQueue("src", {{"RedrivePolicy", RedrivePolicyJson("dlq", 1)}}));
  const std::string poison = Body("poison", 0, 10'000);
  Send("src", poison);
  ASSERT_EQ(Receive("src", 1, 0).size(), 1u);
  Commit();
  FillAndDeleteMost("bulk", 200, 5);
  EXPECT_TRUE(Receive("src").empty());
  ASSERT_EQ(Visible("dlq"), 1);
  Commit();
  ASSERT_TRUE(storage_->Compacting());
  FinishCompaction();
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  std::vector<pb::Message> got = Receive("dlq");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].body() == poison);
}

// A redrive (message move task) while a compaction runs, of messages moved to
// the dead-letter queue before it started and not copied yet, back to a queue
// the compaction has been through: "src", then "bulk" (more than one slice),
// then "dlq".
TEST_F(StorageTest, RedriveWhileACompactionRunsKeepsTheBodies) {
  ASSERT_OK(CreateQueue("src"));
  ASSERT_OK(CreateQueue("bulk"));
  ASSERT_OK(CreateQueue("dlq"));
  ASSERT_OK(SetAttributes("src", {{"RedrivePolicy", RedrivePolicyJson("dlq", 1)}}));
  std::multiset<std::string> bodies;
  for (int i = 0; i < 3; ++i) {
    bodies.insert(Body("redriven", i, 5000));
    Send("src", Body("redriven", i, 5000));
  }
  while (!Receive("src", 10, 0).empty()) {
  }
  ASSERT_EQ(Visible("dlq"), 3);
  // Back in "src", the messages are to be received more than once below.
  ASSERT_OK(SetAttributes("src", {{"RedrivePolicy", RedrivePolicyJson("dlq", 5)}}));
  Commit();
  FillAndDeleteMost("bulk", 200, 5);
  const std::vector<std::string> old_segments = SegmentFiles();
  Commit();
  ASSERT_TRUE(storage_->Compacting());

  ASSERT_OK(StartMoveTask("dlq"));
  ASSERT_EQ(Visible("src"), 3);
  ASSERT_EQ(Visible("dlq"), 0);
  ASSERT_TRUE(storage_->Compacting());
  FinishCompaction();
  const std::vector<std::string> now = SegmentFiles();
  for (const std::string& name : old_segments) {
    ASSERT_FALSE(std::binary_search(now.begin(), now.end(), name)) << name << " is still there";
  }
  EXPECT_TRUE(ReceiveAllBodies("src", 10) == bodies);
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  AdvanceSeconds(10);
  EXPECT_TRUE(ReceiveAllBodies("src") == bodies);
}

}  // namespace
}  // namespace sluice::testing
