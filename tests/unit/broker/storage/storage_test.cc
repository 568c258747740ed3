// Storage, the Engine's journal on the write-ahead log: what an Engine does
// is committed, the Storage and Engine are destroyed, and a fresh Engine
// recovered from the same directory must hold the same state (queues and
// their settings, messages and their bodies, receive counts, FIFO order,
// deduplication ids, receipt handles). Compaction must delete old segments
// without losing a live message, also when messages move between queues
// while it runs. Writes that fail (a full disk, made with a file-size limit)
// must give a compaction up without loss, and fail a turn without leaving
// any of it behind.
//
// Time is the fixture's FakeClock, which goes on across reopens. Each test
// has a data directory of its own under the system's temporary directory.
#include "broker/storage/storage.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "broker/storage/segment_log.h"
#include "tests/unit/broker/engine/engine_test_util.h"
#include "tests/unit/broker/storage/storage_test_util.h"

namespace sluice::testing {
namespace {

namespace fs = std::filesystem;

// A body that names its message and has `size` bytes.
std::string Body(const std::string& tag, int i, size_t size = 64) {
  std::string body = tag + "-" + std::to_string(i) + "-";
  while (body.size() < size) {
    body += static_cast<char>('a' + (body.size() + static_cast<size_t>(i)) % 26);
  }
  return body;
}

std::string Attr(const pb::Message& m, const std::string& name) {
  auto it = m.attributes().find(name);
  return it == m.attributes().end() ? "" : it->second;
}

class StorageTest : public EngineTest {
 protected:
  StorageTest() {
    std::string pattern = (fs::temp_directory_path() / "sluice-storage-XXXXXX").string();
    const char* made = ::mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr) << "mkdtemp failed";
    dir_ = pattern;
  }
  ~StorageTest() override {
    Close();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(Reopen()); }

  // Drops the engine and the storage, as a stopped (or killed) broker would:
  // whatever was not committed is lost.
  void Close() {
    engine_.reset();
    storage_.reset();
  }

  // Opens the storage in dir_ again and recovers it into a new Engine on the
  // same clock, as a restarted broker does.
  void Reopen() {
    Close();
    auto opened = Storage::Open(dir_.string(), options_);
    ASSERT_TRUE(opened.ok()) << opened.status().detail();
    storage_ = std::move(*opened);
    // A restarted broker seeds its message ids afresh.
    ResetEngine({.inflight_limit = kInflightLimit,
                 .seed = 1000 + ++opens_,
                 .receipt_secret = storage_->receipt_secret(),
                 .journal = storage_.get()});
    ASSERT_OK(storage_->Recover(engine_.get()));
  }

  void Commit() { ASSERT_OK(storage_->Commit()); }
  void CommitAndReopen() {
    ASSERT_NO_FATAL_FAILURE(Commit());
    ASSERT_NO_FATAL_FAILURE(Reopen());
  }

  // Keeps committing while a compaction runs (an idle broker's loop does the
  // same); how many commits it took. Fails the test if it does not end.
  int FinishCompaction() {
    int commits = 0;
    while (storage_->Compacting() && commits < 1000) {
      storage_->CloseOneDeletedSegment();  // as the server does after each turn
      EXPECT_OK(storage_->Commit());
      ++commits;
    }
    EXPECT_FALSE(storage_->Compacting())
        << "the compaction did not end in " << commits << " commits";
    return commits;
  }

  fs::path LogDir() const { return dir_ / "log"; }
  std::vector<std::string> SegmentFiles() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(LogDir())) {
      if (e.path().extension() == ".seg") names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  fs::path LastSegment() const { return LogDir() / SegmentFiles().back(); }
  uint64_t DiskBytes() const {
    uint64_t total = 0;
    for (const std::string& name : SegmentFiles()) total += fs::file_size(LogDir() / name);
    return total;
  }

  // Receives every message there is, `visibility_s` each.
  std::vector<pb::Message> ReceiveAll(const std::string& queue, int visibility_s = 30) {
    std::vector<pb::Message> all;
    for (;;) {
      std::vector<pb::Message> got = Receive(queue, 10, visibility_s);
      if (got.empty()) return all;
      all.insert(all.end(), got.begin(), got.end());
    }
  }
  std::multiset<std::string> ReceiveAllBodies(const std::string& queue, int visibility_s = 30) {
    std::multiset<std::string> bodies;
    for (const pb::Message& m : ReceiveAll(queue, visibility_s)) bodies.insert(m.body());
    return bodies;
  }

  // Sends `count` messages of `size` bytes to `queue`, a commit after each
  // (a turn each, as clients would); then in one turn, not committed,
  // receives them all and deletes all but every `keep_every`th, which are
  // made visible again. Returns the bodies kept.
  std::multiset<std::string> FillAndDeleteMost(const std::string& queue, int count, int keep_every,
                                               size_t size = 64 << 10) {
    Fill(queue, count, size);
    EXPECT_FALSE(storage_->Compacting()) << "a log of live messages only was compacted";
    const std::multiset<std::string> kept = DeleteMost(queue, keep_every);
    EXPECT_EQ(kept.size(), static_cast<size_t>((count + keep_every - 1) / keep_every));
    return kept;
  }
  // The first half of FillAndDeleteMost: sends, a commit after each. Returns
  // the bodies sent.
  std::multiset<std::string> Fill(const std::string& queue, int count, size_t size = 64 << 10) {
    std::multiset<std::string> bodies;
    for (int i = 0; i < count; ++i) {
      bodies.insert(Body(queue, i, size));
      Send(queue, Body(queue, i, size));
      EXPECT_OK(storage_->Commit());
    }
    return bodies;
  }
  // The second half: the turn that deletes all but every `keep_every`th.
  std::multiset<std::string> DeleteMost(const std::string& queue, int keep_every) {
    std::multiset<std::string> kept;
    for (const pb::Message& m : ReceiveAll(queue, 60)) {
      const int i = std::stoi(m.body().substr(queue.size() + 1));
      if (i % keep_every == 0) {
        kept.insert(m.body());
        EXPECT_OK(ChangeVisibility(queue, m.receipt_handle(), 0));
      } else {
        EXPECT_OK(DeleteMessage(queue, m.receipt_handle()));
      }
    }
    return kept;
  }

  std::vector<std::string> QueueNames() {
    pb::ListQueuesRequest req;
    pb::ListQueuesResponse resp;
    EXPECT_OK(engine().ListQueues(req, &resp));
    return {resp.queue_names().begin(), resp.queue_names().end()};
  }

  Status StartMoveTask(const std::string& source, int rate = 0, std::string* handle = nullptr) {
    pb::StartMessageMoveTaskRequest req;
    req.set_source_arn(QueueArn(source));
    req.set_max_number_of_messages_per_second(rate);
    pb::StartMessageMoveTaskResponse resp;
    Status s = engine().StartMessageMoveTask(req, &resp);
    if (handle != nullptr) *handle = resp.task_handle();
    return s;
  }
  Status CancelMoveTask(const std::string& handle) {
    pb::CancelMessageMoveTaskRequest req;
    req.set_task_handle(handle);
    pb::CancelMessageMoveTaskResponse resp;
    return engine().CancelMessageMoveTask(req, &resp);
  }
  std::vector<pb::MessageMoveTask> MoveTasksOf(const std::string& source) {
    pb::ListMessageMoveTasksRequest req;
    req.set_source_arn(QueueArn(source));
    req.set_max_results(10);
    pb::ListMessageMoveTasksResponse resp;
    EXPECT_OK(engine().ListMessageMoveTasks(req, &resp));
    return {resp.results().begin(), resp.results().end()};
  }
  // `n` messages in "dlq", each dead-lettered from "src" after one receive.
  void DeadLetterInto(int n) {
    ASSERT_OK(CreateQueue("dlq"));
    ASSERT_OK(CreateQueue("src", {{"RedrivePolicy", RedrivePolicyJson("dlq", 1)}}));
    for (int i = 0; i < n; ++i) Send("src", Body("r", i));
    // Bounded, so that dead-lettering that fails shows in the count below.
    for (int i = 0; i <= n && !Receive("src", 10, 0).empty(); ++i) {
    }
    ASSERT_EQ(Visible("dlq"), n);
  }

  fs::path dir_;
  // No slack: compactions copy as soon as a run's garbage outweighs its live
  // messages, so that logs of a few MB exercise the copying (the default's
  // slack is checked by CompactionOfAQueueConsumedInOrderCopiesNothing).
  StorageOptions options_{.fsync = FsyncMode::kNever, .reserve_bytes = 0, .copy_slack_bytes = 0};
  std::unique_ptr<Storage> storage_;
  uint64_t opens_ = 0;
};

// --- Opening ------------------------------------------------------------------------

TEST_F(StorageTest, FreshDirectoryRecoversNothingAndKeepsItsReceiptSecret) {
  EXPECT_TRUE(QueueNames().empty());
  EXPECT_TRUE(fs::is_directory(LogDir()));
  EXPECT_FALSE(storage_->HasPending());
  EXPECT_FALSE(storage_->Compacting());
  const uint64_t secret = storage_->receipt_secret();
  EXPECT_NE(secret, 0u);
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(storage_->receipt_secret(), secret);
  EXPECT_TRUE(QueueNames().empty());
}

TEST_F(StorageTest, OpenRefusesAStoreOfTheOlderRocksDbBroker) {
  Close();
  fs::create_directory(dir_ / "store");
  auto opened = Storage::Open(dir_.string(), options_);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().detail().find(dir_.string() + "/store"), std::string::npos)
      << opened.status().detail();
}

TEST_F(StorageTest, HasPendingFollowsReportedChanges) {
  EXPECT_FALSE(storage_->HasPending());
  ASSERT_OK(CreateQueue("q"));
  EXPECT_TRUE(storage_->HasPending());
  Commit();
  EXPECT_FALSE(storage_->HasPending());
  Send("q", "m");
  EXPECT_TRUE(storage_->HasPending());
  Commit();
  EXPECT_FALSE(storage_->HasPending());
}

TEST_F(StorageTest, ParseFsyncModeTakesTheThreeModes) {
  EXPECT_EQ(*ParseFsyncMode("always"), FsyncMode::kAlways);
  EXPECT_EQ(*ParseFsyncMode("interval"), FsyncMode::kInterval);
  EXPECT_EQ(*ParseFsyncMode("never"), FsyncMode::kNever);
  EXPECT_CODE(ParseFsyncMode("sometimes").status(), kInvalidArgument);
}

TEST_F(StorageTest, DiskIsLowWhenFreeSpaceIsBelowTheReserve) {
  EXPECT_FALSE(storage_->DiskLow());  // reserve 0
  options_.reserve_bytes = std::numeric_limits<uint64_t>::max();
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_TRUE(storage_->DiskLow());
  storage_->RefreshDiskSpace();
  EXPECT_TRUE(storage_->DiskLow());
}

// --- Syncing ------------------------------------------------------------------------

TEST_F(StorageTest, AlwaysModeSyncsOnTheSyncerThreadAndSignalsItsFd) {
  options_.fsync = FsyncMode::kAlways;
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_TRUE(storage_->SyncsEachCommit());
  ASSERT_OK(CreateQueue("q"));
  Commit();
  EXPECT_EQ(storage_->WrittenGeneration(), 1u);
  EXPECT_EQ(storage_->SyncedGeneration(), 0u);
  storage_->RequestSync();
  pollfd p{storage_->sync_fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 10'000), 1) << "the syncer never signalled";
  ASSERT_OK(storage_->FinishSync());
  EXPECT_EQ(storage_->SyncedGeneration(), 1u);
  // Nothing new written: no sync is started, nothing is signalled.
  storage_->RequestSync();
  EXPECT_EQ(::poll(&p, 1, 0), 0);
  // A commit with nothing to write is not a generation.
  Commit();
  EXPECT_EQ(storage_->WrittenGeneration(), 1u);
}

TEST_F(StorageTest, IntervalModeSyncsWhenTheIntervalHasPassed) {
  options_.fsync = FsyncMode::kInterval;
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_FALSE(storage_->SyncsEachCommit());
  EXPECT_FALSE(storage_->NextSync().has_value());
  ASSERT_OK(CreateQueue("q"));
  Commit();
  ASSERT_TRUE(storage_->NextSync().has_value());
  ASSERT_OK(storage_->SyncIfDue(Now()));  // never synced before: due
  EXPECT_FALSE(storage_->NextSync().has_value());

  Send("q", "m");
  Commit();
  EXPECT_EQ(storage_->NextSync(), Now() + Storage::kIntervalMs);
  ASSERT_OK(storage_->SyncIfDue(Now() + Storage::kIntervalMs - 1));
  EXPECT_EQ(storage_->NextSync(), Now() + Storage::kIntervalMs);
  ASSERT_OK(storage_->SyncIfDue(Now() + Storage::kIntervalMs));
  EXPECT_FALSE(storage_->NextSync().has_value());
  Commit();  // nothing written: nothing to sync
  EXPECT_FALSE(storage_->NextSync().has_value());
}

TEST_F(StorageTest, NeverModeNeverAsksForASync) {
  ASSERT_OK(CreateQueue("q"));
  Send("q", "m");
  Commit();
  EXPECT_FALSE(storage_->SyncsEachCommit());
  EXPECT_FALSE(storage_->NextSync().has_value());
}

// --- Queues -------------------------------------------------------------------------

TEST_F(StorageTest, QueuesAndTheirAttributesSurviveReopen) {
  ASSERT_OK(CreateQueue("dlq"));
  ASSERT_OK(CreateQueue("src", {{"RedrivePolicy", RedrivePolicyJson("dlq", 3)},
                                {"VisibilityTimeout", "45"},
                                {"DelaySeconds", "2"},
                                {"MessageRetentionPeriod", "7200"},
                                {"ReceiveMessageWaitTimeSeconds", "5"},
                                {"MaximumMessageSize", "2048"}}));
  ASSERT_OK(CreateQueue("dlq.fifo"));
  ASSERT_OK(CreateQueue("orders.fifo", {{"ContentBasedDeduplication", "true"},
                                        {"RedrivePolicy", RedrivePolicyJson("dlq.fifo", 1)}}));
  AdvanceSeconds(5);
  ASSERT_OK(SetAttributes("dlq", {{"VisibilityTimeout", "90"}}));
  const std::vector<std::string> names = {"dlq", "dlq.fifo", "orders.fifo", "src"};
  std::map<std::string, Attributes> before;
  for (const std::string& name : names) before[name] = GetAttributes(name);
  ASSERT_EQ(before["dlq"]["VisibilityTimeout"], "90");
  ASSERT_NE(before["dlq"]["LastModifiedTimestamp"], before["dlq"]["CreatedTimestamp"]);

  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(QueueNames(), names);
  for (const std::string& name : names) EXPECT_EQ(GetAttributes(name), before[name]) << name;
  // A queue created after the reopen works alongside them.
  ASSERT_OK(CreateQueue("later"));
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(QueueNames().size(), 5u);
  for (const std::string& name : names) EXPECT_EQ(GetAttributes(name), before[name]) << name;
}

TEST_F(StorageTest, DeletedQueueStaysDeletedAndItsHandlesDoNotMatchANewQueueOfItsName) {
  ASSERT_OK(CreateQueue("q"));
  Send("q", "old");
  std::vector<pb::Message> got = Receive("q");
  ASSERT_EQ(got.size(), 1u);
  ASSERT_OK(DeleteQueue("q"));
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_CODE(GetQueueUrl("q"), kQueueDoesNotExist);
  EXPECT_TRUE(QueueNames().empty());

  ASSERT_OK(CreateQueue("q"));
  Send("q", "new");
  EXPECT_CODE(DeleteMessage("q", got[0].receipt_handle()), kReceiptHandleIsInvalid);
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_CODE(DeleteMessage("q", got[0].receipt_handle()), kReceiptHandleIsInvalid);
  EXPECT_EQ(Visible("q"), 1);
  EXPECT_EQ(ReceiveAllBodies("q"), std::multiset<std::string>{"new"});
}

TEST_F(StorageTest, PurgeSurvivesReopen) {
  ASSERT_OK(CreateQueue("q"));
  for (int i = 0; i < 5; ++i) Send("q", Body("m", i));
  ASSERT_EQ(Receive("q", 2).size(), 2u);
  ASSERT_OK(Purge("q"));
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(Visible("q") + InFlight("q") + Delayed("q"), 0);
  AdvanceSeconds(60);
  EXPECT_TRUE(Receive("q").empty());
  Send("q", "after");
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(ReceiveAllBodies("q"), std::multiset<std::string>{"after"});
}

TEST_F(StorageTest, APurgeIsOneRecordAndSparesWhatIsSentAfterItInTheSameTurn) {
  ASSERT_OK(CreateQueue("q"));
  for (int i = 0; i < 2000; ++i) Send("q", Body("m", i));
  ASSERT_EQ(Receive("q", 3).size(), 3u);
  Commit();
  const uint64_t before = DiskBytes();
  ASSERT_OK(Purge("q"));
  Send("q", "after");
  Commit();
  // The purge, the queue's record and the new message: not a removal record
  // for each of 2,000 messages (24 bytes each at the least).
  ASSERT_GE(DiskBytes(), before);
  EXPECT_LT(DiskBytes() - before, 2048u);
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(ReceiveAllBodies("q"), std::multiset<std::string>{"after"});
}

// --- Messages -----------------------------------------------------------------------

TEST_F(StorageTest, MessagesSurviveReopenWithBodiesAttributesAndDelays) {
  ASSERT_OK(CreateQueue("q"));
  pb::SendMessageEntry with_attributes = Entry("with attributes \xe2\x9c\x93");
  (*with_attributes.mutable_message_attributes())["color"] = StringAttr("red");
  (*with_attributes.mutable_message_attributes())["blob"] =
      BinaryAttr(std::string("\x00\x01\xff", 3));
  pb::SendMessageEntry delayed = Entry("delayed");
  delayed.set_delay_seconds(30);
  std::map<std::string, pb::SendMessageResult> sent;
  sent["plain"] = Send("q", "plain");
  sent[with_attributes.body()] = Send("q", with_attributes);
  sent["delayed"] = Send("q", delayed);
  const std::string big = Body("big", 0, 1 << 20);  // 1 MiB, the largest message
  sent[big] = Send("q", big);
  const Millis sent_at = Now();

  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(Visible("q"), 3);
  EXPECT_EQ(Delayed("q"), 1);
  AdvanceSeconds(10);
  std::vector<pb::Message> got = ReceiveAll("q");
  ASSERT_EQ(got.size(), 3u);
  for (const pb::Message& m : got) {
    ASSERT_TRUE(sent.contains(m.body())) << m.body().substr(0, 40);
    const pb::SendMessageResult& r = sent[m.body()];
    EXPECT_EQ(m.message_id(), r.message_id());
    EXPECT_EQ(m.md5_of_body(), r.md5_of_message_body());
    EXPECT_EQ(m.md5_of_message_attributes(), r.md5_of_message_attributes());
    EXPECT_EQ(Attr(m, "SentTimestamp"), std::to_string(sent_at));
    EXPECT_EQ(Attr(m, "ApproximateReceiveCount"), "1");
    if (m.body() == with_attributes.body()) {
      ASSERT_EQ(m.message_attributes().size(), 2u);
      EXPECT_EQ(m.message_attributes().at("color").string_value(), "red");
      EXPECT_EQ(m.message_attributes().at("blob").binary_value(), std::string("\x00\x01\xff", 3));
    }
  }
  // The delay runs from the send, not from the reopen.
  AdvanceSeconds(20);
  got = Receive("q");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body(), "delayed");
  EXPECT_EQ(got[0].message_id(), sent["delayed"].message_id());
}

TEST_F(StorageTest, ReceiveReadsBodiesFromEverySegmentAndThePendingTurnWithGapsBetween) {
  ASSERT_OK(CreateQueue("q"));
  // Bodies of a few bytes to 9 KiB (more than a read's gap) in two segments (a
  // reopen starts a new one) and in the turn not yet written; some deleted,
  // so that the bodies received lie apart.
  std::multiset<std::string> expected;
  auto send = [&](int i) {
    const std::string body = Body("q", i, 1 + (i * 997) % (9 << 10));
    Send("q", body);
    expected.insert(body);
  };
  for (int i = 0; i < 12; ++i) send(i);
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  for (int i = 12; i < 24; ++i) send(i);
  ASSERT_NO_FATAL_FAILURE(Commit());
  for (const pb::Message& m : Receive("q", 10, 0)) {
    if (std::stoi(m.body().substr(2)) % 3 == 0) {
      ASSERT_OK(DeleteMessage("q", m.receipt_handle()));
      expected.erase(expected.find(m.body()));
    }
  }
  ASSERT_NO_FATAL_FAILURE(Commit());
  for (int i = 24; i < 30; ++i) send(i);
  EXPECT_EQ(ReceiveAllBodies("q"), expected);
}

TEST_F(StorageTest, ReceiveOfBodiesBeyondOneReadSpanGivesEveryBodyWhole) {
  ASSERT_OK(CreateQueue("q"));
  // Ten bodies of 300 KiB sent together lie together: 3 MiB, more than one
  // read takes.
  std::multiset<std::string> sent;
  for (int i = 0; i < 10; ++i) {
    sent.insert(Body("q", i, 300 << 10));
    Send("q", Body("q", i, 300 << 10));
  }
  ASSERT_NO_FATAL_FAILURE(Commit());
  std::multiset<std::string> got;
  for (const pb::Message& m : Receive("q", 10, 30)) got.insert(m.body());
  EXPECT_EQ(got, sent);
}

TEST_F(StorageTest, MessageWhoseBodyCannotBeReadIsNotDeliveredAndStaysInFlight) {
  ASSERT_OK(CreateQueue("q"));
  for (int i = 0; i < 3; ++i) Send("q", Body("lost", i));
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());  // their bodies stay in the first segment
  std::multiset<std::string> readable;
  for (int i = 0; i < 2; ++i) {
    readable.insert(Body("kept", i));
    Send("q", Body("kept", i));
  }
  ASSERT_NO_FATAL_FAILURE(Commit());
  // The first segment loses its end under the running broker: the first
  // body is whole, the other two are cut.
  const fs::path first_segment = LogDir() / SegmentFiles().front();
  const size_t cut = testing::ReadFile(first_segment).find(Body("lost", 1));
  ASSERT_NE(cut, std::string::npos);
  fs::resize_file(first_segment, cut + 10);
  readable.insert(Body("lost", 0));

  testing::LogCapture logs;
  std::multiset<std::string> got;
  for (const pb::Message& m : Receive("q", 10, 30)) got.insert(m.body());
  EXPECT_EQ(got, readable);
  EXPECT_EQ(logs.Find("event=body_read_failed").size(), 2u);
  EXPECT_EQ(InFlight("q"), 5);
}

TEST_F(StorageTest, ChangesNotCommittedAreLost) {
  ASSERT_OK(CreateQueue("q"));
  Send("q", "committed");
  Commit();
  Send("q", "not committed");
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(ReceiveAllBodies("q"), std::multiset<std::string>{"committed"});
}

TEST_F(StorageTest, ReceiveCountAndVisibilitySurviveReopen) {
  ASSERT_OK(CreateQueue("q"));
  for (int i = 0; i < 3; ++i) Send("q", Body("m", i));
  const Millis first_received = Now();
  std::vector<pb::Message> got = Receive("q", 2, /*visibility_timeout=*/60);
  ASSERT_EQ(got.size(), 2u);
  std::set<std::string> received = {got[0].body(), got[1].body()};

  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(Visible("q"), 1);
  EXPECT_EQ(InFlight("q"), 2);
  AdvanceSeconds(59);
  EXPECT_EQ(InFlight("q"), 2);
  AdvanceSeconds(1);
  EXPECT_EQ(Visible("q"), 3);
  for (const pb::Message& m : ReceiveAll("q")) {
    const bool again = received.contains(m.body());
    EXPECT_EQ(Attr(m, "ApproximateReceiveCount"), again ? "2" : "1") << m.body();
    if (again) {
      EXPECT_EQ(Attr(m, "ApproximateFirstReceiveTimestamp"), std::to_string(first_received));
    }
  }
}

TEST_F(StorageTest, ReceiptHandlesFromBeforeReopenStillDeleteAndChangeVisibility) {
  ASSERT_OK(CreateQueue("q"));
  Send("q", "a");
  Send("q", "b");
  std::map<std::string, std::string> handle;
  for (const pb::Message& m : Receive("q", 10, 60)) handle[m.body()] = m.receipt_handle();
  ASSERT_EQ(handle.size(), 2u);

  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  ASSERT_OK(DeleteMessage("q", handle["b"]));
  ASSERT_OK(ChangeVisibility("q", handle["a"], 0));
  EXPECT_EQ(Visible("q"), 1);
  EXPECT_EQ(InFlight("q"), 0);
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(Visible("q"), 1);
  EXPECT_EQ(InFlight("q"), 0);
  std::vector<pb::Message> got = Receive("q");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body(), "a");
  EXPECT_EQ(Attr(got[0], "ApproximateReceiveCount"), "2");
  // The handle of the receive before is stale now.
  EXPECT_CODE(DeleteMessage("q", handle["a"]), kStaleReceiptHandle);
}

TEST_F(StorageTest, ChangedVisibilitySurvivesReopen) {
  ASSERT_OK(CreateQueue("q"));
  Send("q", "m");
  std::vector<pb::Message> got = Receive("q", 1, 30);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_OK(ChangeVisibility("q", got[0].receipt_handle(), 300));
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  AdvanceSeconds(31);
  EXPECT_EQ(InFlight("q"), 1);
  EXPECT_TRUE(Receive("q").empty());
  AdvanceSeconds(269);
  EXPECT_EQ(Visible("q"), 1);
  EXPECT_EQ(ReceiveAllBodies("q"), std::multiset<std::string>{"m"});
}

TEST_F(StorageTest, DeletedMessagesNeverComeBack) {
  ASSERT_OK(CreateQueue("q"));
  for (int i = 0; i < 5; ++i) Send("q", Body("m", i));
  for (const pb::Message& m : Receive("q", 10, 30)) {
    const int i = std::stoi(m.body().substr(2));
    if (i % 2 == 1) {
      ASSERT_OK(DeleteMessage("q", m.receipt_handle()));
    }
  }
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(InFlight("q"), 3);
  AdvanceSeconds(30);
  std::vector<pb::Message> got = ReceiveAll("q");
  std::multiset<std::string> bodies;
  for (const pb::Message& m : got) bodies.insert(m.body());
  EXPECT_EQ(bodies, (std::multiset<std::string>{Body("m", 0), Body("m", 2), Body("m", 4)}));
  for (const pb::Message& m : got) ASSERT_OK(DeleteMessage("q", m.receipt_handle()));
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  ASSERT_NO_FATAL_FAILURE(Reopen());
  AdvanceSeconds(3600);
  EXPECT_EQ(Visible("q") + InFlight("q") + Delayed("q"), 0);
  EXPECT_TRUE(Receive("q").empty());
}

TEST_F(StorageTest, MessageSentAndDeletedInOneTurnNeverComesBack) {
  ASSERT_OK(CreateQueue("q"));
  Commit();
  Send("q", "short-lived");
  std::vector<pb::Message> got = Receive("q");
  ASSERT_EQ(got.size(), 1u);
  ASSERT_OK(DeleteMessage("q", got[0].receipt_handle()));
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  AdvanceSeconds(3600);
  EXPECT_EQ(Visible("q") + InFlight("q"), 0);
}

// A receipt handle names a queue position; positions must not repeat after a
// restart, or the handle of a deleted message could act on a newer one.
TEST_F(StorageTest, HandleOfADeletedMessageDoesNotMatchAMessageSentAfterReopen) {
  ASSERT_OK(CreateQueue("q"));
  Send("q", "a");
  Send("q", "b");
  std::map<std::string, std::string> handle;
  for (const pb::Message& m : Receive("q", 10, 60)) handle[m.body()] = m.receipt_handle();
  ASSERT_OK(DeleteMessage("q", handle["b"]));  // the newest position
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  Send("q", "c");
  ASSERT_OK(DeleteMessage("q", handle["b"]));  // gone: succeeds, deletes nothing
  EXPECT_EQ(Visible("q"), 1);
  EXPECT_EQ(InFlight("q"), 1);
  ASSERT_OK(DeleteMessage("q", handle["a"]));
  EXPECT_EQ(ReceiveAllBodies("q"), std::multiset<std::string>{"c"});
}

// --- The whole state ------------------------------------------------------------------

// A mixed workload runs on the journalled engine and, request for request, on
// an engine without a journal that never stops (same seed and receipt key, so
// the same message ids and receipt handles). After a commit and a reopen the
// recovered engine must answer exactly as the one that never stopped: queue
// attributes and counts, and every receive as time goes on (bodies, ids,
// attributes, receive counts, FIFO order, receipt handles).
TEST_F(StorageTest, RecoveredEngineAnswersAsOneThatNeverStopped) {
  std::unique_ptr<Engine> shadow = std::make_unique<Engine>(
      &clock_, EngineOptions{.inflight_limit = kInflightLimit,
                             .seed = 1000 + opens_,
                             .receipt_secret = storage_->receipt_secret()});
  // Runs `step` on the journalled engine, then on the shadow; the results
  // of both (which the step returns) must be the same.
  auto both = [&](auto step) {
    auto mine = step();
    std::swap(engine_, shadow);
    auto theirs = step();
    std::swap(engine_, shadow);
    return std::make_pair(mine, theirs);
  };
  auto ok = [&](auto step) {
    auto [mine, theirs] = both([&] { return step().ok(); });
    EXPECT_TRUE(mine);
    EXPECT_TRUE(theirs);
  };
  // Receives on both and compares the messages; handles too while
  // `same_handles` (after the reopen, a queue's receipt numbers may run
  // higher than the shadow's: recovery resumes them above those of messages
  // moved in from other queues, which is harmless). The messages of each.
  bool same_handles = true;
  auto receive = [&](const std::string& queue, int max, int visibility) {
    std::vector<pb::Message> mine = Receive(queue, max, visibility);
    std::swap(engine_, shadow);
    std::vector<pb::Message> theirs = Receive(queue, max, visibility);
    std::swap(engine_, shadow);
    EXPECT_EQ(mine.size(), theirs.size()) << queue;
    for (size_t i = 0; i < std::min(mine.size(), theirs.size()); ++i) {
      pb::Message a = mine[i];
      pb::Message b = theirs[i];
      if (!same_handles) {
        a.clear_receipt_handle();
        b.clear_receipt_handle();
      }
      EXPECT_EQ(a.DebugString(), b.DebugString()) << queue << " message " << i;
    }
    return std::make_pair(mine, theirs);
  };

  ok([&] { return CreateQueue("dlq"); });
  ok([&] {
    return CreateQueue(
        "src", {{"RedrivePolicy", RedrivePolicyJson("dlq", 2)}, {"VisibilityTimeout", "20"}});
  });
  ok([&] { return CreateQueue("jobs", {{"DelaySeconds", "0"}}); });
  ok([&] { return CreateQueue("orders.fifo"); });
  ok([&] { return CreateQueue("purged"); });
  ok([&] { return CreateQueue("tmp"); });
  for (int i = 0; i < 20; ++i) {
    pb::SendMessageEntry e = Entry(Body("job", i, 100 + 37 * i));
    if (i % 3 == 0) (*e.mutable_message_attributes())["n"] = StringAttr(std::to_string(i));
    if (i % 4 == 1) e.set_delay_seconds(60 * (i % 5));
    ok([&] { return SendEntry("jobs", e); });
    AdvanceMillis(250);
  }
  for (int i = 0; i < 3; ++i) ok([&] { return SendEntry("src", Entry(Body("src", i))); });
  for (int i = 0; i < 6; ++i) {
    ok([&] {
      return SendEntry("orders.fifo", FifoEntry(Body("o", i), "g" + std::to_string(i % 3)));
    });
  }
  for (int i = 0; i < 4; ++i) ok([&] { return SendEntry("purged", Entry(Body("p", i))); });
  ok([&] { return SendEntry("tmp", Entry("tmp")); });
  Commit();

  AdvanceSeconds(1);
  std::vector<pb::Message> jobs = receive("jobs", 5, 30).first;
  ASSERT_EQ(jobs.size(), 5u);
  ok([&] { return DeleteMessage("jobs", jobs[0].receipt_handle()); });
  ok([&] { return DeleteMessage("jobs", jobs[3].receipt_handle()); });
  ok([&] { return ChangeVisibility("jobs", jobs[1].receipt_handle(), 100); });
  ok([&] { return ChangeVisibility("jobs", jobs[2].receipt_handle(), 0); });
  for (int round = 0; round < 3; ++round) {
    receive("src", 10, 20);
    AdvanceSeconds(20);
  }
  std::vector<pb::Message> orders = receive("orders.fifo", 2, 45).first;
  ASSERT_EQ(orders.size(), 2u);
  ok([&] { return DeleteMessage("orders.fifo", orders[0].receipt_handle()); });
  ok([&] { return Purge("purged"); });
  ok([&] { return DeleteQueue("tmp"); });
  ok([&] { return SetAttributes("jobs", {{"VisibilityTimeout", "40"}}); });
  receive("dlq", 1, 15);

  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  same_handles = false;
  // Handles issued before the reopen act on the recovered engine.
  ok([&] { return ChangeVisibility("jobs", jobs[1].receipt_handle(), 50); });
  ok([&] { return ChangeVisibility("orders.fifo", orders[1].receipt_handle(), 10); });

  size_t received_after = 0;
  const std::vector<std::string> names = QueueNames();
  std::swap(engine_, shadow);
  EXPECT_EQ(QueueNames(), names);
  std::swap(engine_, shadow);
  EXPECT_EQ(names, (std::vector<std::string>{"dlq", "jobs", "orders.fifo", "purged", "src"}));
  for (int step = 0; step < 6; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    for (const std::string& name : names) {
      auto [mine, theirs] = both([&] { return GetAttributes(name); });
      EXPECT_EQ(mine, theirs) << name;
    }
    for (const std::string& name : names) {
      auto [mine, theirs] = receive(name, 10, 25);
      received_after += mine.size();
      // Delete every other message received, in both, each by its own handle.
      for (size_t i = 0; i < mine.size() && i < theirs.size(); i += 2) {
        EXPECT_OK(DeleteMessage(name, mine[i].receipt_handle()));
        std::swap(engine_, shadow);
        EXPECT_OK(DeleteMessage(name, theirs[i].receipt_handle()));
        std::swap(engine_, shadow);
      }
    }
    AdvanceSeconds(step < 3 ? 30 : 120);
  }
  // Every message left (18 jobs, 5 orders, 3 dead letters) came back at
  // least once.
  EXPECT_GE(received_after, 26u);
}

TEST_F(StorageTest, RetentionRunsFromTheSendAcrossReopens) {
  ASSERT_OK(CreateQueue("q", {{"MessageRetentionPeriod", "60"}}));
  Send("q", "short");
  AdvanceSeconds(30);
  Send("q", "later");
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(Visible("q"), 2);
  AdvanceSeconds(30);  // 60 s after the first send
  EXPECT_EQ(Visible("q"), 1);
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(ReceiveAllBodies("q"), std::multiset<std::string>{"later"});
}

TEST_F(StorageTest, QueueCreatedAndDeletedInOneTurnLeavesNothing) {
  ASSERT_OK(CreateQueue("brief"));
  Send("brief", "m");
  ASSERT_OK(DeleteQueue("brief"));
  ASSERT_OK(CreateQueue("kept"));
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(QueueNames(), std::vector<std::string>{"kept"});
  ASSERT_OK(CreateQueue("brief"));
  EXPECT_EQ(Visible("brief"), 0);
}

// --- Dead-letter queues and redrive -------------------------------------------------

TEST_F(StorageTest, DeadLetterMoveSurvivesReopen) {
  ASSERT_OK(CreateQueue("dlq"));
  ASSERT_OK(CreateQueue("src", {{"RedrivePolicy", RedrivePolicyJson("dlq", 2)}}));
  pb::SendMessageEntry e = Entry("poison");
  (*e.mutable_message_attributes())["kind"] = StringAttr("bad");
  const pb::SendMessageResult sent = Send("src", e);
  const Millis sent_at = Now();
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(Receive("src", 1, 10).size(), 1u);
    AdvanceSeconds(10);
  }
  EXPECT_TRUE(Receive("src").empty());  // a third receive moves it instead
  ASSERT_EQ(Visible("dlq"), 1);

  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(Visible("src") + InFlight("src"), 0);
  EXPECT_EQ(Visible("dlq"), 1);
  std::vector<pb::Message> got = Receive("dlq");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body(), "poison");
  EXPECT_EQ(got[0].message_id(), sent.message_id());
  EXPECT_EQ(got[0].message_attributes().at("kind").string_value(), "bad");
  EXPECT_EQ(Attr(got[0], "DeadLetterQueueSourceArn"), QueueArn("src"));
  EXPECT_EQ(Attr(got[0], "SentTimestamp"), std::to_string(sent_at));
  EXPECT_EQ(Attr(got[0], "ApproximateReceiveCount"), "1");  // counted afresh in the DLQ
}

TEST_F(StorageTest, ReceiveCountLeadsToTheDeadLetterMoveAcrossReopens) {
  ASSERT_OK(CreateQueue("dlq"));
  ASSERT_OK(CreateQueue("src", {{"RedrivePolicy", RedrivePolicyJson("dlq", 2)}}));
  Send("src", "poison");
  ASSERT_EQ(Receive("src", 1, 10).size(), 1u);
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  AdvanceSeconds(10);
  std::vector<pb::Message> got = Receive("src", 1, 10);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(Attr(got[0], "ApproximateReceiveCount"), "2");
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  AdvanceSeconds(10);
  EXPECT_TRUE(Receive("src").empty());
  EXPECT_EQ(Visible("dlq"), 1);
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(ReceiveAllBodies("dlq"), std::multiset<std::string>{"poison"});
}

TEST_F(StorageTest, RedriveSurvivesReopen) {
  ASSERT_NO_FATAL_FAILURE(DeadLetterInto(3));
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  ASSERT_OK(StartMoveTask("dlq"));
  EXPECT_EQ(Visible("src"), 3);
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(Visible("dlq"), 0);
  std::vector<pb::Message> got = ReceiveAll("src");
  std::multiset<std::string> bodies;
  for (const pb::Message& m : got) {
    bodies.insert(m.body());
    EXPECT_EQ(Attr(m, "DeadLetterQueueSourceArn"), "");
    EXPECT_EQ(Attr(m, "ApproximateReceiveCount"), "1");
  }
  EXPECT_EQ(bodies, (std::multiset<std::string>{Body("r", 0), Body("r", 1), Body("r", 2)}));
}

TEST_F(StorageTest, RunningMoveTaskSurvivesReopenAndGoesOnWhereItStopped) {
  ASSERT_NO_FATAL_FAILURE(DeadLetterInto(6));
  std::string handle;
  ASSERT_OK(StartMoveTask("dlq", /*rate=*/1, &handle));
  ASSERT_EQ(Visible("src"), 1);  // a rate of 1/s moves one at once
  Commit();
  AdvanceSeconds(100);  // the broker is down a while
  ASSERT_NO_FATAL_FAILURE(Reopen());

  std::vector<pb::MessageMoveTask> tasks = MoveTasksOf("dlq");
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].task_handle(), handle);
  EXPECT_EQ(tasks[0].status(), "RUNNING");
  EXPECT_EQ(tasks[0].approximate_number_of_messages_moved(), 1);
  EXPECT_EQ(tasks[0].approximate_number_of_messages_to_move(), 6);
  EXPECT_EQ(tasks[0].max_number_of_messages_per_second(), 1);
  EXPECT_TRUE(engine().HasRunningMoveTasks());

  // It goes on at its rate from the restart: the time the broker was down
  // is not made up in a burst.
  engine().Tick();
  EXPECT_EQ(Visible("src"), 2);
  AdvanceSeconds(1);
  engine().Tick();
  EXPECT_EQ(Visible("src"), 3);
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(MoveTasksOf("dlq")[0].approximate_number_of_messages_moved(), 3);
  EXPECT_EQ(Visible("src"), 3);
  EXPECT_EQ(Visible("dlq"), 3);

  // Its handle still cancels it, and the cancel is recorded on its own.
  ASSERT_OK(CancelMoveTask(handle));
  EXPECT_TRUE(storage_->HasPending());
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  tasks = MoveTasksOf("dlq");
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].status(), "CANCELLED");
  EXPECT_EQ(tasks[0].task_handle(), "");
  EXPECT_FALSE(engine().HasRunningMoveTasks());
  AdvanceSeconds(10);
  engine().Tick();
  EXPECT_EQ(Visible("dlq"), 3);

  // A new task gets a handle no earlier task had.
  std::string second;
  ASSERT_OK(StartMoveTask("dlq", 0, &second));
  EXPECT_NE(second, handle);
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  tasks = MoveTasksOf("dlq");
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0].status(), "COMPLETED");
  EXPECT_EQ(tasks[0].approximate_number_of_messages_moved(), 3);
  EXPECT_EQ(tasks[1].status(), "CANCELLED");
  EXPECT_EQ(Visible("src"), 6);
}

TEST_F(StorageTest, MoveTasksOfADeletedQueueStayForgotten) {
  ASSERT_NO_FATAL_FAILURE(DeadLetterInto(2));
  ASSERT_OK(StartMoveTask("dlq"));
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  ASSERT_EQ(MoveTasksOf("dlq").size(), 1u);
  ASSERT_OK(DeleteQueue("dlq"));
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  ASSERT_OK(CreateQueue("dlq"));
  EXPECT_TRUE(MoveTasksOf("dlq").empty());
}

// --- FIFO queues and deduplication ---------------------------------------------------

TEST_F(StorageTest, FifoOrderSequenceNumbersAndDeduplicationSurviveReopen) {
  ASSERT_OK(CreateQueue("orders.fifo"));
  std::map<std::string, pb::SendMessageResult> sent;
  for (const auto& [body, group] : std::vector<std::pair<std::string, std::string>>{
           {"a1", "g1"}, {"b1", "g2"}, {"a2", "g1"}, {"b2", "g2"}, {"a3", "g1"}}) {
    sent[body] = Send("orders.fifo", FifoEntry(body, group));
  }
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());

  // A duplicate within the window is accepted and not enqueued again.
  const pb::SendMessageResult dup = Send("orders.fifo", FifoEntry("a2 again", "g1", "a2"));
  EXPECT_EQ(dup.message_id(), sent["a2"].message_id());
  EXPECT_EQ(dup.sequence_number(), sent["a2"].sequence_number());
  EXPECT_EQ(Visible("orders.fifo"), 5);
  // New sends number on from where the queue was.
  const pb::SendMessageResult a4 = Send("orders.fifo", FifoEntry("a4", "g1"));
  EXPECT_GT(a4.sequence_number(), sent["a3"].sequence_number());
  sent["a4"] = a4;

  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  std::vector<std::string> order;
  for (const pb::Message& m : ReceiveAll("orders.fifo")) {
    order.push_back(m.body());
    EXPECT_EQ(Attr(m, "SequenceNumber"), sent[m.body()].sequence_number()) << m.body();
    EXPECT_EQ(Attr(m, "MessageDeduplicationId"), m.body());
  }
  // Group by group, each in the order sent; the group with the oldest
  // message first.
  EXPECT_EQ(order, (std::vector<std::string>{"a1", "a2", "a3", "a4", "b1", "b2"}));
  // The window is kept across the reopen too.
  EXPECT_EQ(Send("orders.fifo", FifoEntry("b1", "g2")).message_id(), sent["b1"].message_id());
}

TEST_F(StorageTest, FifoGroupWithAMessageInFlightStaysHeldAfterReopen) {
  ASSERT_OK(CreateQueue("orders.fifo"));
  Send("orders.fifo", FifoEntry("a1", "g1"));
  Send("orders.fifo", FifoEntry("a2", "g1"));
  Send("orders.fifo", FifoEntry("b1", "g2"));
  std::vector<pb::Message> got = Receive("orders.fifo", 1, 60);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].body(), "a1");
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(ReceiveBodies("orders.fifo"), std::vector<std::string>{"b1"});
  ASSERT_OK(DeleteMessage("orders.fifo", got[0].receipt_handle()));
  EXPECT_EQ(ReceiveBodies("orders.fifo"), std::vector<std::string>{"a2"});
}

TEST_F(StorageTest, DeduplicationWindowEndsOnTimeAfterReopen) {
  ASSERT_OK(CreateQueue("orders.fifo"));
  const pb::SendMessageResult first = Send("orders.fifo", FifoEntry("m", "g", "id-1"));
  AdvanceSeconds(200);
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(Send("orders.fifo", FifoEntry("m", "g", "id-1")).message_id(), first.message_id());
  EXPECT_EQ(Visible("orders.fifo"), 1);
  AdvanceSeconds(100);  // the five minutes since the first send are over
  const pb::SendMessageResult again = Send("orders.fifo", FifoEntry("m", "g", "id-1"));
  EXPECT_NE(again.message_id(), first.message_id());
  EXPECT_EQ(Visible("orders.fifo"), 2);
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(Visible("orders.fifo"), 2);
  EXPECT_EQ(Send("orders.fifo", FifoEntry("m", "g", "id-1")).message_id(), again.message_id());
}

TEST_F(StorageTest, StandardQueueDeduplicationIdSurvivesReopen) {
  ASSERT_OK(CreateQueue("q"));
  pb::SendMessageEntry e = Entry("upload");
  e.set_message_deduplication_id("upload-1");
  const pb::SendMessageResult first = Send("q", e);
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(Send("q", e).message_id(), first.message_id());
  EXPECT_EQ(Visible("q"), 1);
}

TEST_F(StorageTest, ContentBasedDeduplicationSurvivesReopen) {
  ASSERT_OK(CreateQueue("cb.fifo", {{"ContentBasedDeduplication", "true"}}));
  pb::SendMessageEntry e = Entry("same content");
  e.set_message_group_id("g");
  const pb::SendMessageResult first = Send("cb.fifo", e);
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(Send("cb.fifo", e).message_id(), first.message_id());
  EXPECT_EQ(Visible("cb.fifo"), 1);
}

// --- Damage -------------------------------------------------------------------------

// A dead-letter move records where the body is, in an older segment; if that
// segment is gone, recovery says so instead of serving empty bodies.
TEST_F(StorageTest, RecoverFailsWhenTheSegmentOfABodyIsMissing) {
  ASSERT_OK(CreateQueue("dlq"));
  ASSERT_OK(CreateQueue("src", {{"RedrivePolicy", RedrivePolicyJson("dlq", 1)}}));
  Send("src", "poison");
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());  // later records go to segment 2
  ASSERT_EQ(Receive("src", 1, 0).size(), 1u);
  EXPECT_TRUE(Receive("src").empty());
  ASSERT_EQ(Visible("dlq"), 1);
  Commit();
  Close();
  ASSERT_EQ(SegmentFiles().front(), "0000000001.seg");
  fs::remove(LogDir() / "0000000001.seg");
  auto opened = Storage::Open(dir_.string(), options_);
  ASSERT_TRUE(opened.ok()) << opened.status().detail();
  Engine engine(&clock_, {.receipt_secret = (*opened)->receipt_secret(), .journal = opened->get()});
  Status s = (*opened)->Recover(&engine);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("Corruption: the body of message"), std::string::npos)
      << s.ToString();
  EXPECT_NE(s.detail().find("log segment 1, which is missing"), std::string::npos) << s.detail();
}

TEST_F(StorageTest, TornLastCommitIsDroppedAndTheRestRecovered) {
  ASSERT_OK(CreateQueue("q"));
  Send("q", "kept");
  Commit();
  Send("q", "torn");
  Commit();
  Close();
  const fs::path last = LastSegment();
  const uint64_t size = fs::file_size(last);
  ASSERT_GT(size, 10u);
  fs::resize_file(last, size - 7);
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(Visible("q"), 1);
  Send("q", "after");
  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  EXPECT_EQ(ReceiveAllBodies("q"), (std::multiset<std::string>{"kept", "after"}));
}

TEST_F(StorageTest, DamageBeforeTheLastCommitFailsOpenWithCorruption) {
  ASSERT_OK(CreateQueue("q"));
  Commit();
  Send("q", "a");
  Commit();
  Close();
  const fs::path first = LogDir() / SegmentFiles().front();
  std::string data = ReadFile(first);
  ASSERT_GT(data.size(), 20u);
  data[5] = static_cast<char>(data[5] ^ 1);  // in the first batch's header
  WriteFile(first, data);
  auto opened = Storage::Open(dir_.string(), options_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().ToString().rfind("Corruption: " + first.string() + " at offset 0:", 0),
            0u)
      << opened.status().ToString();
}

// A client's binary attribute is stored as given, so it can hold bytes that
// form a valid log batch. A crash that tears the write of such a message must
// still be a torn write (the send was never acknowledged), not corruption
// that keeps the broker from starting.
TEST_F(StorageTest, TornSendWhoseAttributeHoldsALogBatchIsDropped) {
  std::string batch;
  {
    auto log = SegmentLog::Open((dir_ / "scratch").string());
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Replay([](const LogRecord&) { return Status::Ok(); }).ok());
    (*log)->Append(7, {"looks like a record"});
    ASSERT_TRUE((*log)->Write().ok());
    batch = ReadFile(dir_ / "scratch" / "0000000001.seg");
  }
  ASSERT_OK(CreateQueue("q"));
  Send("q", "kept");
  Commit();
  const uint64_t committed = fs::file_size(LastSegment());
  pb::SendMessageEntry e = Entry(Body("torn", 0, 4000));
  (*e.mutable_message_attributes())["blob"] = BinaryAttr(batch);
  Send("q", e);
  Commit();
  Close();
  const fs::path last = LastSegment();
  const std::string data = ReadFile(last);
  const size_t at = data.find(batch, committed);
  ASSERT_NE(at, std::string::npos);
  fs::resize_file(last, at + batch.size() + 100);  // cut inside the body

  auto opened = Storage::Open(dir_.string(), options_);
  ASSERT_TRUE(opened.ok()) << "a torn, unacknowledged send keeps the broker from starting: "
                           << opened.status().detail();
  opened->reset();
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(ReceiveAllBodies("q"), std::multiset<std::string>{"kept"});
}

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
  EXPECT_EQ(Attr(got[0], "DeadLetterQueueSourceArn"), QueueArn("src"));
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

}  // namespace
}  // namespace sluice::testing
