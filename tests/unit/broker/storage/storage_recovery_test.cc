// Storage's recovery: what an Engine does is committed, the Storage and
// Engine are destroyed, and a fresh Engine recovered from the same
// directory must hold the same state (queues and their settings, messages
// and their bodies, receive counts, FIFO order, deduplication ids, receipt
// handles, move tasks). Damage to the log fails the open, except a torn
// last commit, which is dropped. The fixture is in storage_test_util.h.
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

#include "broker/storage/record_codec.h"
#include "broker/storage/segment_log.h"
#include "broker/storage/storage.h"
#include "storage.pb.h"
#include "tests/unit/broker/storage/storage_test_util.h"

namespace sluice::testing {
namespace {

namespace fs = std::filesystem;

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

// --- Queues -------------------------------------------------------------------------

TEST_F(StorageTest, QueueTagsSurviveReopen) {
  ASSERT_OK(CreateQueue("q"));
  pb::TagQueueRequest tag;
  tag.set_queue_name("q");
  (*tag.mutable_tags())["team"] = "photos";
  (*tag.mutable_tags())["env"] = "prod";
  pb::TagQueueResponse tagged;
  ASSERT_OK(engine_->TagQueue(tag, &tagged));
  pb::UntagQueueRequest untag;
  untag.set_queue_name("q");
  untag.add_tag_keys("env");
  pb::UntagQueueResponse untagged;
  ASSERT_OK(engine_->UntagQueue(untag, &untagged));

  ASSERT_NO_FATAL_FAILURE(CommitAndReopen());
  pb::ListQueueTagsRequest list;
  list.set_queue_name("q");
  pb::ListQueueTagsResponse tags;
  ASSERT_OK(engine_->ListQueueTags(list, &tags));
  using Tags = std::map<std::string, std::string>;
  EXPECT_EQ(Tags(tags.tags().begin(), tags.tags().end()), (Tags{{"team", "photos"}}));
}

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
// an engine on its memory journal that never stops (same seed and receipt key, so
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
  EXPECT_EQ(Attr(got[0], "DeadLetterQueueSourceArn"), ArnFormat{}.Of("src"));
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

// Found by the fuzzer (tests/fuzz/regressions/log_replay/): a second live
// queue of one name replaced the first in the engine while its messages
// were still being handed to it, freed.
TEST_F(StorageTest, TwoLiveQueuesOfOneNameAreCorruption) {
  ASSERT_OK(CreateQueue("q"));
  Send("q", "a");
  Commit();
  Close();
  {
    auto log = SegmentLog::Open(LogDir().string());
    ASSERT_TRUE(log.ok()) << log.status().detail();
    ASSERT_OK((*log)->Replay([](const LogRecord&) { return Status::Ok(); }));
    storage::QueueRecord twin;
    twin.set_name("q");
    twin.set_incarnation(99);
    (*log)->Append(kQueue, {twin.SerializeAsString()});
    ASSERT_OK((*log)->Write());
  }
  auto opened = Storage::Open(dir_.string(), options_);
  ASSERT_TRUE(opened.ok()) << opened.status().detail();
  Engine engine(&clock_, {.receipt_secret = (*opened)->receipt_secret(), .journal = opened->get()});
  const Status s = (*opened)->Recover(&engine);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.detail().find("incarnations 1 and 99 both name queue q"), std::string::npos)
      << s.detail();
}

// Found by the fuzzer (tests/fuzz/regressions/log_replay/): a moved
// message's record that put its body 1.5 GB past the end of its segment
// made the first receive allocate that much before reading failed.
TEST_F(StorageTest, AMovedBodyPastTheEndOfItsSegmentIsCorruption) {
  ASSERT_OK(CreateQueue("q"));
  Commit();
  Close();
  {
    auto log = SegmentLog::Open(LogDir().string());
    ASSERT_TRUE(log.ok()) << log.status().detail();
    ASSERT_OK((*log)->Replay([](const LogRecord&) { return Status::Ok(); }));
    StoredMessage m;
    m.seq = 1;
    m.message_id = "far";
    const EncodedMessage e = EncodeMessage(1, m, (LogPosition{1} << 32) | 20, 1500u << 20);
    (*log)->Append(kMessageMoved, {View(e.header), e.record});
    ASSERT_OK((*log)->Write());
  }
  auto opened = Storage::Open(dir_.string(), options_);
  ASSERT_TRUE(opened.ok()) << opened.status().detail();
  Engine engine(&clock_, {.receipt_secret = (*opened)->receipt_secret(), .journal = opened->get()});
  const Status s = (*opened)->Recover(&engine);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.detail().find("message far (1572864000 bytes at offset 20) runs past the end of "
                            "log segment 1"),
            std::string::npos)
      << s.detail();
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

}  // namespace
}  // namespace sluice::testing
