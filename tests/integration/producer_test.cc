// Integration tests of `sluice-producer enqueue` and `upload` against the real
// broker over ipc://, on real files in a bucket root: exactly-once enqueueing
// with two producers at once and across kill -9, re-runs, --watch (writers
// that have not closed, temporary names, new directories, a broker outage),
// exit codes, FIFO order within a folder, and the whole pipeline with two
// real workers.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "client/client.h"
#include "common/bucket_layout.h"
#include "producer/enqueue/sent_journal.h"
#include "producer/enqueue/uploads.h"
#include "tests/support/broker_process.h"
#include "tests/support/test_images.h"
#include "tests/support/worker_process.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::seconds;
using testing::CommandResult;
using testing::Subprocess;
using testing::WaitFor;

constexpr char kQueue[] = "jobs";
constexpr char kBucket[] = "photos";
// Generous, for a loaded machine; a passing run takes a fraction of it.
constexpr auto kTimeout = seconds(60);
// The producer's calls give up this soon when the broker does not answer,
// so the tests of an absent broker do not wait out the 10 s default.
constexpr char kShortCallTimeoutMs[] = "500";

// Every file's path under `dir` (recursively), relative; empty when missing.
// Dot-directories are left out: queued/.sluice-sent/ holds the producers'
// journals, not uploads.
std::set<std::string> FilesUnder(const std::string& dir) {
  std::set<std::string> files;
  if (!fs::exists(dir)) return files;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it) {
    if (!it->is_directory()) {
      files.insert(fs::relative(it->path(), dir).string());
    } else if (it->path().filename().string().starts_with(".")) {
      it.disable_recursion_pending();
    }
  }
  return files;
}

// The uploads in `bucket_dir`'s queued/ that no producer's sent journal
// names: claimed, but their send not (yet) acknowledged.
std::set<std::string> Unjournaled(const std::string& bucket_dir) {
  std::set<std::string> sent;
  const std::string journals = bucket_dir + "/" + layout::kSentJournals;
  if (fs::exists(journals)) {
    for (const auto& journal : fs::directory_iterator(journals)) {
      for (std::string& entry : SentJournal::ReadEntries(journal.path())) sent.insert(entry);
    }
  }
  std::set<std::string> unjournaled;
  for (const Upload& upload : BucketUploads(bucket_dir).List(layout::kQueued, nullptr)) {
    if (!sent.contains(SentJournal::Entry(upload))) unjournaled.insert(upload.path);
  }
  return unjournaled;
}

// The "key" of a job message's body.
std::string KeyOf(const pb::Message& m) { return json::parse(m.body()).at("key"); }

// How often each key appears among `messages`.
std::map<std::string, int> CountKeys(const std::vector<pb::Message>& messages) {
  std::map<std::string, int> counts;
  for (const pb::Message& m : messages) ++counts[KeyOf(m)];
  return counts;
}

// `paths` as the keys of their jobs: "a/1.jpg" -> "pending/a/1.jpg".
std::map<std::string, int> OnceEach(const std::set<std::string>& paths) {
  std::map<std::string, int> counts;
  for (const std::string& p : paths) counts["pending/" + p] = 1;
  return counts;
}

// One receive of up to 10 messages of `queue`, with their system
// attributes, each deleted at once (so a FIFO queue's groups move on); empty
// when nothing is visible.
std::vector<pb::Message> ReceiveAndDelete(Client& client, const std::string& queue) {
  pb::ReceiveMessageRequest req;
  req.set_queue_name(queue);
  req.set_max_number_of_messages(10);
  req.set_wait_time_seconds(0);
  req.set_visibility_timeout(600);
  req.add_attribute_names("All");
  auto r = client.ReceiveMessage(req);
  if (!r.ok()) {
    ADD_FAILURE() << "ReceiveMessage: " << r.status().ToString();
    return {};
  }
  if (r->messages().empty()) return {};
  pb::DeleteMessageBatchRequest del;
  del.set_queue_name(queue);
  for (const pb::Message& m : r->messages()) {
    pb::DeleteMessageBatchEntry* e = del.add_entries();
    e->set_id(std::to_string(del.entries_size()));
    e->set_receipt_handle(m.receipt_handle());
  }
  auto d = client.DeleteMessageBatch(del);
  EXPECT_TRUE(d.ok() && d->failed().empty()) << d.status().ToString();
  return {r->messages().begin(), r->messages().end()};
}

// Receives and deletes messages of `queue`, counting their keys in
// `*counts`, until every key of `want` came and a receive comes back empty;
// false when that takes longer than `timeout`.
bool ReceiveUntil(Client& client, const std::string& queue, std::map<std::string, int>* counts,
                  const std::set<std::string>& want, std::chrono::milliseconds timeout = kTimeout) {
  return WaitFor(
      [&] {
        const std::vector<pb::Message> batch = ReceiveAndDelete(client, queue);
        for (const pb::Message& m : batch) ++(*counts)[KeyOf(m)];
        if (!batch.empty()) return false;
        for (const std::string& key : want) {
          if (!counts->contains(key)) return false;
        }
        return true;
      },
      timeout);
}

class ProducerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bucket_root_ = dir_.path() + "/buckets";
    fs::create_directories(Path("pending"));
    CreateQueue(kQueue);
  }

  void CreateQueue(const std::string& name, std::map<std::string, std::string> attributes = {}) {
    pb::CreateQueueRequest req;
    req.set_queue_name(name);
    req.mutable_attributes()->insert(attributes.begin(), attributes.end());
    auto r = client_.CreateQueue(req);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  std::string Path(const std::string& key, const std::string& bucket = kBucket) const {
    return bucket_root_ + "/" + bucket + "/" + key;
  }
  void Put(const std::string& key, const std::string& data, const std::string& bucket = kBucket) {
    testing::WriteFile(Path(key, bucket), data);
  }
  // `n` small files spread over `folders` folders of pending/; their paths
  // relative to pending/.
  std::set<std::string> PutMany(int n, int folders, const std::string& bucket = kBucket) {
    std::set<std::string> paths;
    for (int i = 0; i < n; ++i) {
      char name[64];
      std::snprintf(name, sizeof name, "f%02d/%05d.jpg", i % folders, i);
      Put(std::string("pending/") + name, name, bucket);
      paths.insert(name);
    }
    return paths;
  }

  // The producer's argv for `enqueue` on this test's bucket, queue and broker.
  std::vector<std::string> EnqueueArgv(const std::vector<std::string>& extra = {},
                                       const std::string& queue = kQueue,
                                       const std::string& bucket = kBucket) const {
    std::vector<std::string> argv = {testing::ProducerBinary(),
                                     "enqueue",
                                     "--queue-name",
                                     queue,
                                     "--bucket-root",
                                     bucket_root_,
                                     "--bucket",
                                     bucket,
                                     "--broker",
                                     broker_.endpoint()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  CommandResult Enqueue(const std::vector<std::string>& extra = {},
                        const std::string& queue = kQueue, const std::string& bucket = kBucket) {
    return testing::RunCommand(EnqueueArgv(extra, queue, bucket));
  }

  // Receives every message of `queue` until a receive comes back empty, in
  // the order received, deleting them.
  std::vector<pb::Message> Drain(const std::string& queue = kQueue) {
    std::vector<pb::Message> all;
    for (auto batch = ReceiveAndDelete(client_, queue); !batch.empty();
         batch = ReceiveAndDelete(client_, queue)) {
      all.insert(all.end(), batch.begin(), batch.end());
    }
    EXPECT_EQ(Attribute("ApproximateNumberOfMessages", queue), 0);
    EXPECT_EQ(Attribute("ApproximateNumberOfMessagesNotVisible", queue), 0);
    return all;
  }

  bool DrainUntil(std::map<std::string, int>* counts, const std::set<std::string>& want) {
    return ReceiveUntil(client_, kQueue, counts, want);
  }

  // A numeric queue attribute, or -1.
  int Attribute(const std::string& name, const std::string& queue = kQueue) {
    pb::GetQueueAttributesRequest req;
    req.set_queue_name(queue);
    req.add_attribute_names(name);
    auto r = client_.GetQueueAttributes(req);
    return r.ok() && r->attributes().contains(name) ? std::stoi(r->attributes().at(name)) : -1;
  }

  testing::TempDir dir_;
  testing::BrokerProcess broker_;
  Client client_{broker_.endpoint()};
  std::string bucket_root_;
};

// --- Scans ---------------------------------------------------------------------

TEST_F(ProducerTest, TwoProducersAtOnceEnqueueEveryUploadExactlyOnce) {
  constexpr int kFiles = 300;
  const std::set<std::string> paths = PutMany(kFiles, 6);
  Subprocess a(EnqueueArgv());
  Subprocess b(EnqueueArgv());
  ASSERT_EQ(a.Wait(kTimeout), 0) << a.Stderr();
  ASSERT_EQ(b.Wait(kTimeout), 0) << b.Stderr();
  const json out_a = json::parse(a.Stdout());
  const json out_b = json::parse(b.Stdout());
  SCOPED_TRACE("a: " + out_a.dump() + " b: " + out_b.dump());

  const int enqueued_a = out_a["Enqueued"], skipped_a = out_a["Skipped"];
  const int enqueued_b = out_b["Enqueued"], skipped_b = out_b["Skipped"];
  EXPECT_EQ(out_a["Failed"], 0);
  EXPECT_EQ(out_b["Failed"], 0);
  // Every upload was sent by one of them. Not exactly once by the counts: a
  // producer starts by re-sending what it finds in queued/ unjournaled, which
  // may be the other's uploads still in flight (docs/producer.md, "or is
  // still sending it"); the broker drops those by their deduplication id, and
  // "Enqueued" counts them anyway. The queue below is the exactly-once proof.
  EXPECT_GE(enqueued_a + enqueued_b, kFiles);
  // Each sent an upload at most once, and either claimed an upload it found
  // in pending/ or saw the other take it.
  EXPECT_LE(enqueued_a + skipped_a, kFiles);
  EXPECT_LE(enqueued_b + skipped_b, kFiles);
  EXPECT_LE(skipped_a, enqueued_b);
  EXPECT_LE(skipped_b, enqueued_a);

  EXPECT_EQ(CountKeys(Drain()), OnceEach(paths));
  EXPECT_EQ(FilesUnder(Path("queued")), paths);
  EXPECT_TRUE(FilesUnder(Path("pending")).empty());
  EXPECT_TRUE(Unjournaled(Path("")).empty());
}

TEST_F(ProducerTest, KillNineMidScanThenRestartEnqueuesEveryUploadOnce) {
  constexpr int kFiles = 2000;
  constexpr int kRounds = 3;
  // SLUICE_TEST_SEED=<seed> repeats a run's crash points.
  const char* seed_env = std::getenv("SLUICE_TEST_SEED");
  const uint64_t seed = seed_env != nullptr ? std::stoull(seed_env) : std::random_device{}();
  std::printf("KillNineMidScan seed=%llu\n", static_cast<unsigned long long>(seed));
  RecordProperty("seed", std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int round = 0; round < kRounds; ++round) {
    // A fresh bucket per round, so each round's keys are its own.
    const std::string bucket = "round" + std::to_string(round);
    const std::set<std::string> paths = PutMany(kFiles, 20, bucket);
    // The crash point: once this many jobs are in the queue.
    const int kill_after = std::uniform_int_distribution<int>(1, kFiles / 2)(rng);
    SCOPED_TRACE("seed " + std::to_string(seed) + " round " + std::to_string(round) +
                 " kill after " + std::to_string(kill_after));

    Subprocess first(EnqueueArgv({}, kQueue, bucket));
    ASSERT_TRUE(WaitFor(
        [&] { return Attribute("ApproximateNumberOfMessages") >= kill_after || !first.Running(); },
        kTimeout));
    first.Signal(SIGKILL);
    ASSERT_EQ(first.Wait(seconds(10)), -SIGKILL) << "it finished first: nothing was tested";
    const size_t pending = FilesUnder(Path("pending", bucket)).size();
    const size_t queued = FilesUnder(Path("queued", bucket)).size();
    const size_t unjournaled = Unjournaled(Path("", bucket)).size();
    ASSERT_GT(pending + unjournaled, 0u)
        << "killed after its last journal entry: nothing was tested";
    // Jobs in the queue beyond the journaled ones: sent, not yet journaled;
    // the restart sends them again and the broker must drop them.
    std::printf(
        "round %d: killed with %zu pending, %zu queued of which %zu unjournaled, %d jobs "
        "sent\n",
        round, pending, queued, unjournaled, Attribute("ApproximateNumberOfMessages"));

    // The restart sends what was claimed but not journaled again (the broker
    // drops those that made it, by their deduplication id) and claims the rest.
    const CommandResult second = Enqueue({}, kQueue, bucket);
    ASSERT_EQ(second.exit_code, 0) << second.err;
    const json out = json::parse(second.out);
    EXPECT_EQ(out["Enqueued"], pending + unjournaled) << out.dump();
    EXPECT_EQ(out["Failed"], 0);

    std::map<std::string, int> want;
    for (const std::string& p : paths) want["pending/" + p] = 1;
    EXPECT_EQ(CountKeys(Drain()), want);
    EXPECT_EQ(FilesUnder(Path("queued", bucket)), paths);
    EXPECT_TRUE(FilesUnder(Path("pending", bucket)).empty());
    EXPECT_TRUE(Unjournaled(Path("", bucket)).empty());
    if (HasFailure()) {
      ADD_FAILURE() << "broker running: " << broker_.process().Running() << "; its log:\n"
                    << broker_.process().Stderr();
      return;
    }
  }
}

TEST_F(ProducerTest, RerunAfterACompleteRunEnqueuesNothing) {
  const std::set<std::string> paths = PutMany(20, 3);
  const CommandResult first = Enqueue();
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(json::parse(first.out), (json{{"Enqueued", 20}, {"Skipped", 0}, {"Failed", 0}}));

  const CommandResult again = Enqueue();
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(json::parse(again.out), (json{{"Enqueued", 0}, {"Skipped", 0}, {"Failed", 0}}));
  EXPECT_EQ(Attribute("ApproximateNumberOfMessages"), 20);
  EXPECT_EQ(FilesUnder(Path("queued")), paths);

  // A new upload is the only thing the next run enqueues.
  Put("pending/f00/new.jpg", "new");
  const CommandResult third = Enqueue();
  ASSERT_EQ(third.exit_code, 0) << third.err;
  EXPECT_EQ(json::parse(third.out)["Enqueued"], 1);
  std::map<std::string, int> want = OnceEach(paths);
  want["pending/f00/new.jpg"] = 1;
  EXPECT_EQ(CountKeys(Drain()), want);
}

TEST_F(ProducerTest, JobOptionsGoIntoEveryMessage) {
  Put("pending/a.jpg", "a");
  const CommandResult r = Enqueue({"--sizes", "640,64", "--format", "jpg", "--quality", "70"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<pb::Message> messages = Drain();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(json::parse(messages[0].body()), (json{{"bucket", kBucket},
                                                   {"key", "pending/a.jpg"},
                                                   {"sizes", {640, 64}},
                                                   {"format", "jpeg"},
                                                   {"quality", 70}}));
}

// --- --watch ----------------------------------------------------------------------

// A producer with --watch, ready once it logs that it is watching (after its
// first scan).
std::unique_ptr<Subprocess> StartWatching(std::vector<std::string> argv) {
  argv.push_back("--watch");
  auto p = std::make_unique<Subprocess>(std::move(argv));
  const bool ready =
      WaitFor([&] { return p->Stderr().find("event=watching") != std::string::npos; }, kTimeout);
  EXPECT_TRUE(ready) << p->Stderr();
  return p;
}

TEST_F(ProducerTest, WatchEnqueuesFilesOnceCompleteAndNeverTemporaryOnes) {
  fs::create_directories(Path("pending/slow"));
  Put("pending/before.jpg", "there before the start");
  auto producer = StartWatching(EnqueueArgv());
  std::map<std::string, int> counts;
  ASSERT_TRUE(DrainUntil(&counts, {"pending/before.jpg"}));

  // A writer that has written half and not closed yet.
  std::ofstream slow(Path("pending/slow/big.jpg"), std::ios::binary);
  slow << "first half" << std::flush;
  // A file written and closed after it: once its job is in the queue, the
  // producer has handled every event before it, the slow file's too.
  Put("pending/marker1.jpg", "m1");
  ASSERT_TRUE(DrainUntil(&counts, {"pending/marker1.jpg"})) << producer->Stderr();
  EXPECT_FALSE(counts.contains("pending/slow/big.jpg")) << "enqueued while still being written";
  EXPECT_TRUE(fs::exists(Path("pending/slow/big.jpg")));
  slow << ", second half" << std::flush;
  slow.close();
  ASSERT_TRUE(DrainUntil(&counts, {"pending/slow/big.jpg"})) << producer->Stderr();
  EXPECT_EQ(testing::ReadFile(Path("queued/slow/big.jpg")), "first half, second half");

  // Written under a temporary name, then renamed: enqueued under its name.
  Put("pending/.x.jpg.tmp", "x");
  fs::rename(Path("pending/.x.jpg.tmp"), Path("pending/x.jpg"));
  // Temporary names that stay so are never enqueued.
  Put("pending/y.jpg.part", "y");
  Put("pending/.z.jpg", "z");
  Put("pending/w.jpg~", "w");
  // A new directory, with files in it at once and later.
  Put("pending/newdir/sub/1.jpg", "1");
  Put("pending/newdir/sub/2.jpg", "2");
  ASSERT_TRUE(DrainUntil(&counts,
                         {"pending/x.jpg", "pending/newdir/sub/1.jpg", "pending/newdir/sub/2.jpg"}))
      << producer->Stderr();
  Put("pending/newdir/sub/3.jpg", "3");
  Put("pending/marker2.jpg", "m2");
  ASSERT_TRUE(DrainUntil(&counts, {"pending/newdir/sub/3.jpg", "pending/marker2.jpg"}))
      << producer->Stderr();

  producer->Signal(SIGTERM);
  ASSERT_EQ(producer->Wait(seconds(20)), 0) << producer->Stderr();
  const json out = json::parse(producer->Stdout());
  EXPECT_EQ(out, (json{{"Enqueued", 8}, {"Skipped", 0}, {"Failed", 0}}));
  for (const pb::Message& m : Drain()) ++counts[KeyOf(m)];
  EXPECT_EQ(counts,
            OnceEach({"before.jpg", "marker1.jpg", "slow/big.jpg", "x.jpg", "newdir/sub/1.jpg",
                      "newdir/sub/2.jpg", "newdir/sub/3.jpg", "marker2.jpg"}));
  EXPECT_EQ(FilesUnder(Path("pending")), (std::set<std::string>{"y.jpg.part", ".z.jpg", "w.jpg~"}));
  EXPECT_TRUE(Unjournaled(Path("")).empty());
}

TEST_F(ProducerTest, WatchScanLeavesAFileStillBeingWrittenToItsClose) {
  auto producer = StartWatching(EnqueueArgv());
  // A directory moved in is scanned: no event tells of the files in it. In
  // it, a file closed long ago, one closed a moment ago, and one still being
  // written (as scp -r or cp -r leave the file they are at).
  const std::string album = dir_.path() + "/album";
  testing::WriteFile(album + "/old.jpg", "complete");
  fs::last_write_time(album + "/old.jpg", fs::file_time_type::clock::now() - std::chrono::hours(1));
  testing::WriteFile(album + "/recent.jpg", "complete too");
  std::ofstream big(album + "/big.jpg", std::ios::binary);
  std::string written = "first part";
  big << written << std::flush;
  fs::rename(album, Path("pending/album"));

  // Until the scan took old.jpg, the writer keeps writing.
  std::map<std::string, int> counts;
  ASSERT_TRUE(WaitFor(
      [&] {
        big << '.' << std::flush;
        written += '.';
        for (const pb::Message& m : ReceiveAndDelete(client_, kQueue)) ++counts[KeyOf(m)];
        return counts.contains("pending/album/old.jpg");
      },
      kTimeout))
      << producer->Stderr();
  EXPECT_FALSE(counts.contains("pending/album/big.jpg")) << "enqueued while still being written";
  EXPECT_TRUE(fs::exists(Path("pending/album/big.jpg")));
  big << " last part";
  written += " last part";
  big.close();
  ASSERT_TRUE(DrainUntil(&counts, {"pending/album/big.jpg"})) << producer->Stderr();
  EXPECT_EQ(testing::ReadFile(Path("queued/album/big.jpg")), written);
  // The file closed just before the move is taken by a scan soon after, not
  // only by the periodic one (30 s).
  EXPECT_TRUE(ReceiveUntil(client_, kQueue, &counts, {"pending/album/recent.jpg"}, seconds(15)))
      << producer->Stderr();

  producer->Signal(SIGTERM);
  ASSERT_EQ(producer->Wait(seconds(20)), 0) << producer->Stderr();
  EXPECT_EQ(counts, OnceEach({"album/old.jpg", "album/recent.jpg", "album/big.jpg"}));
}

TEST_F(ProducerTest, WatchSigintStopsItToo) {
  auto producer = StartWatching(EnqueueArgv());
  producer->Signal(SIGINT);
  ASSERT_EQ(producer->Wait(seconds(20)), 0) << producer->Stderr();
  EXPECT_EQ(json::parse(producer->Stdout()),
            (json{{"Enqueued", 0}, {"Skipped", 0}, {"Failed", 0}}));
}

// A broker of its own, on an ipc:// path that outlives it, for restarts.
class ProducerOutageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = "ipc://" + dir_.path() + "/broker.sock";
    bucket_root_ = dir_.path() + "/buckets";
    fs::create_directories(bucket_root_ + "/" + kBucket + "/pending");
  }
  void StartBroker() {
    broker_ = testing::StartBroker(endpoint_, dir_.path() + "/data");
    pb::CreateQueueRequest create;
    create.set_queue_name(kQueue);
    ASSERT_TRUE(client_.CreateQueue(create).ok());
  }
  void StopBroker() {
    broker_->Signal(SIGTERM);
    ASSERT_EQ(broker_->Wait(seconds(10)), 0);
    broker_.reset();
  }
  std::string Path(const std::string& key) const {
    return bucket_root_ + "/" + kBucket + "/" + key;
  }
  std::vector<std::string> EnqueueArgv() const {
    return {testing::ProducerBinary(),
            "enqueue",
            "--queue-name",
            kQueue,
            "--bucket-root",
            bucket_root_,
            "--bucket",
            kBucket,
            "--broker",
            endpoint_,
            "--timeout-ms",
            kShortCallTimeoutMs};
  }
  bool DrainUntil(std::map<std::string, int>* counts, const std::set<std::string>& want) {
    return ReceiveUntil(client_, kQueue, counts, want);
  }

  testing::TempDir dir_;
  std::string endpoint_;
  std::string bucket_root_;
  std::unique_ptr<Subprocess> broker_;
  Client client_{"ipc://" + dir_.path() + "/broker.sock", ClientOptions{.call_timeout_ms = 2000}};
};

TEST_F(ProducerOutageTest, WatchKeepsUploadsThroughABrokerRestartAndSendsEachOnce) {
  StartBroker();
  auto producer = StartWatching(EnqueueArgv());
  std::set<std::string> before, during;
  for (int i = 0; i < 12; ++i) {
    const std::string p = "a" + std::to_string(i % 3) + "/" + std::to_string(i) + ".jpg";
    testing::WriteFile(Path("pending/" + p), p);
    before.insert("pending/" + p);
  }
  std::map<std::string, int> counts;
  ASSERT_TRUE(DrainUntil(&counts, before)) << producer->Stderr();

  StopBroker();
  for (int i = 0; i < 30; ++i) {
    const std::string p = "b" + std::to_string(i % 4) + "/" + std::to_string(i) + ".jpg";
    testing::WriteFile(Path("pending/" + p), p);
    during.insert("pending/" + p);
  }
  // The producer claims them and keeps them while it cannot send them.
  ASSERT_TRUE(WaitFor([&] { return Unjournaled(Path("")).size() == during.size(); }, kTimeout))
      << producer->Stderr();
  EXPECT_TRUE(FilesUnder(Path("pending")).empty());
  ASSERT_TRUE(WaitFor(
      [&] { return producer->Stderr().find("event=broker_unavailable") != std::string::npos; },
      kTimeout));

  StartBroker();
  ASSERT_TRUE(DrainUntil(&counts, during)) << producer->Stderr();
  ASSERT_TRUE(WaitFor([&] { return Unjournaled(Path("")).empty(); }, kTimeout));
  producer->Signal(SIGTERM);
  ASSERT_EQ(producer->Wait(seconds(20)), 0) << producer->Stderr();
  EXPECT_EQ(json::parse(producer->Stdout())["Failed"], 0);
  EXPECT_TRUE(DrainUntil(&counts, {}));

  std::map<std::string, int> want;
  for (const std::string& key : before) want[key] = 1;
  for (const std::string& key : during) want[key] = 1;
  EXPECT_EQ(counts, want);
  EXPECT_EQ(FilesUnder(Path("queued")).size(), before.size() + during.size());
}

TEST_F(ProducerOutageTest, WatchStartedBeforeItsBrokerAndQueueWaitsForThem) {
  // In a cluster the producer may start before the broker, and before the
  // queue-setup Job: --watch waits for both, claiming nothing meanwhile.
  testing::WriteFile(Path("pending/a.jpg"), "a");
  std::vector<std::string> argv = EnqueueArgv();
  argv.push_back("--watch");
  Subprocess producer(argv);
  ASSERT_TRUE(WaitFor(
      [&] { return producer.Stderr().find("event=waiting_for_queue") != std::string::npos; },
      kTimeout))
      << producer.Stderr();
  broker_ = testing::StartBroker(endpoint_, dir_.path() + "/data");
  ASSERT_TRUE(producer.Running()) << producer.Stderr();
  EXPECT_EQ(FilesUnder(Path("pending")), std::set<std::string>{"a.jpg"}) << "nothing claimed";

  pb::CreateQueueRequest create;
  create.set_queue_name(kQueue);
  ASSERT_TRUE(client_.CreateQueue(create).ok());
  std::map<std::string, int> counts;
  ASSERT_TRUE(DrainUntil(&counts, {"pending/a.jpg"})) << producer.Stderr();
  producer.Signal(SIGTERM);
  ASSERT_EQ(producer.Wait(seconds(20)), 0) << producer.Stderr();
  EXPECT_EQ(counts, (std::map<std::string, int>{{"pending/a.jpg", 1}}));
}

// --- Exit codes -------------------------------------------------------------------

TEST_F(ProducerTest, MissingBucketExits253NamingIt) {
  const CommandResult r = Enqueue({}, kQueue, "no-such-bucket");
  EXPECT_EQ(r.exit_code, 253);
  EXPECT_NE(r.err.find("bucket 'no-such-bucket' not found"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(ProducerTest, BadFlagsExit252) {
  EXPECT_EQ(Enqueue({"--group-by", "user"}).exit_code, 252);
  EXPECT_EQ(Enqueue({"--quality", "0"}).exit_code, 252);
  EXPECT_EQ(Enqueue({}, kQueue, "..").exit_code, 252);
  EXPECT_EQ(Enqueue({}, kQueue, "a/b").exit_code, 252);
}

TEST_F(ProducerTest, UnknownQueueExits254AndMovesNothing) {
  const std::set<std::string> paths = PutMany(5, 2);
  const CommandResult r = Enqueue({}, "no-such-queue");
  EXPECT_EQ(r.exit_code, 254);
  EXPECT_NE(r.err.find("QueueDoesNotExist"), std::string::npos) << r.err;
  EXPECT_EQ(FilesUnder(Path("pending")), paths);
  EXPECT_TRUE(FilesUnder(Path("queued")).empty());
}

TEST_F(ProducerTest, UnreachableBrokerExits255AndMovesNothing) {
  const std::set<std::string> paths = PutMany(5, 2);
  std::vector<std::string> argv = EnqueueArgv({"--timeout-ms", kShortCallTimeoutMs});
  argv[argv.size() - 3] = "ipc://" + dir_.path() + "/nobody-listens.sock";  // --broker's value
  const CommandResult r = testing::RunCommand(argv);
  EXPECT_EQ(r.exit_code, 255) << r.err;
  EXPECT_NE(r.err.find("Could not reach the broker"), std::string::npos) << r.err;
  EXPECT_EQ(FilesUnder(Path("pending")), paths);
  EXPECT_TRUE(FilesUnder(Path("queued")).empty());
}

TEST_F(ProducerTest, UploadThatCannotBeClaimedExits1AndTheRestGoOn) {
  // queued/blocked is a symlink to a file (so no upload the start-up
  // recovery would send), so pending/blocked/x.jpg cannot be claimed: the
  // rename fails with ENOTDIR, as root too.
  fs::create_directories(Path("queued"));
  testing::WriteFile(dir_.path() + "/elsewhere", "in the way");
  fs::create_symlink(dir_.path() + "/elsewhere", Path("queued/blocked"));
  Put("pending/blocked/x.jpg", "x");
  Put("pending/ok/y.jpg", "y");
  const CommandResult r = Enqueue();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const json out = json::parse(r.out);
  EXPECT_EQ(out["Enqueued"], 1);
  EXPECT_EQ(out["Failed"], 1);
  ASSERT_EQ(out["Failures"].size(), 1u);
  EXPECT_NE(out["Failures"][0].get<std::string>().find("blocked/x.jpg"), std::string::npos)
      << out.dump();
  EXPECT_NE(r.err.find("not enqueued: blocked/x.jpg"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(Path("pending/blocked/x.jpg")));
  EXPECT_EQ(CountKeys(Drain()), OnceEach({"ok/y.jpg"}));
}

TEST_F(ProducerTest, UnreadableUploadExits1AndStaysInPending) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads a file whatever its mode";
  Put("pending/secret.jpg", "s");
  Put("pending/open.jpg", "o");
  ASSERT_EQ(chmod(Path("pending/secret.jpg").c_str(), 0), 0);
  const CommandResult r = Enqueue();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const json out = json::parse(r.out);
  EXPECT_EQ(out["Enqueued"], 1);
  EXPECT_EQ(out["Failed"], 1);
  EXPECT_NE(r.err.find("secret.jpg"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(Path("pending/secret.jpg")));
  EXPECT_EQ(CountKeys(Drain()), OnceEach({"open.jpg"}));
}

// --- FIFO -------------------------------------------------------------------------

TEST_F(ProducerTest, FifoQueueKeepsEachFolderInOrderInItsOwnGroup) {
  constexpr char kFifo[] = "jobs.fifo";
  CreateQueue(kFifo, {{"FifoQueue", "true"}});
  std::map<std::string, std::vector<std::string>> expected;  // group -> keys
  for (int i = 0; i < 25; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "%03d.jpg", i);
    for (const std::string folder : {"alice", "bob"}) {
      Put("pending/" + folder + "/" + name, folder + name);
      expected[folder].push_back("pending/" + folder + "/" + name);
    }
  }
  Put("pending/top.jpg", "top");
  expected[kBucket].push_back("pending/top.jpg");
  const CommandResult r = Enqueue({}, kFifo);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["Enqueued"], 51);

  std::map<std::string, std::map<std::string, std::string>> got;  // group -> seq -> key
  for (const pb::Message& m : Drain(kFifo)) {
    EXPECT_EQ(m.attributes().at("MessageDeduplicationId").size(), 64u);
    got[m.attributes().at("MessageGroupId")][m.attributes().at("SequenceNumber")] = KeyOf(m);
  }
  std::map<std::string, std::vector<std::string>> in_order;
  for (const auto& [group, by_seq] : got) {
    for (const auto& [seq, key] : by_seq) in_order[group].push_back(key);
  }
  EXPECT_EQ(in_order, expected);
}

// --- upload -----------------------------------------------------------------------

TEST_F(ProducerTest, UploadCopiesIntoPendingAndEnqueues) {
  const std::vector<std::string> photos = {"bridge.jpg", "friends.jpg"};
  std::vector<std::string> argv = {testing::ProducerBinary(), "upload"};
  for (const std::string& name : photos) argv.push_back(testing::SamplePhotoPath(name));
  for (const char* a : {"--prefix", "alice", "--queue-name", kQueue, "--bucket-root",
                        bucket_root_.c_str(), "--bucket", kBucket, "--broker"}) {
    argv.push_back(a);
  }
  argv.push_back(broker_.endpoint());
  const CommandResult r = testing::RunCommand(argv);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out),
            (json{{"Uploaded", 2}, {"Enqueued", 2}, {"Skipped", 0}, {"Failed", 0}}));
  for (const std::string& name : photos) {
    EXPECT_EQ(testing::ReadFile(Path("queued/alice/" + name)),
              testing::ReadFile(testing::SamplePhotoPath(name)));
  }
  EXPECT_TRUE(FilesUnder(Path("pending")).empty());
  EXPECT_EQ(CountKeys(Drain()), OnceEach({"alice/bridge.jpg", "alice/friends.jpg"}));

  // A name that is waiting in pending/ already is not replaced.
  Put("pending/alice/umang.jpg", "an earlier upload");
  argv[2] = testing::SamplePhotoPath("umang.jpg");
  argv.erase(argv.begin() + 3);  // one file
  const CommandResult again = testing::RunCommand(argv);
  EXPECT_EQ(again.exit_code, 1) << again.err;
  const json out = json::parse(again.out);
  EXPECT_EQ(out["Failed"], 1);
  EXPECT_EQ(out["Enqueued"], 0);
  EXPECT_FALSE(out.contains("Uploaded")) << out.dump();
  EXPECT_NE(again.err.find("exists already"), std::string::npos) << again.err;
  EXPECT_EQ(FilesUnder(Path("pending")), std::set<std::string>{"alice/umang.jpg"});
  EXPECT_EQ(testing::ReadFile(Path("pending/alice/umang.jpg")), "an earlier upload");
  EXPECT_EQ(Attribute("ApproximateNumberOfMessages"), 0);
}

// --- The whole pipeline ------------------------------------------------------------

TEST_F(ProducerTest, PipelineTurnsEverySamplePhotoIntoOutputs) {
  const std::vector<std::string> names = testing::SamplePhotoNames();
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string folder = i % 2 == 0 ? "trip/" : "home/";
    fs::create_directories(Path("pending/" + folder));
    fs::copy_file(testing::SamplePhotoPath(names[i]), Path("pending/" + folder + names[i]));
  }
  std::vector<std::unique_ptr<testing::WorkerProcess>> workers;
  for (int i = 0; i < 2; ++i) {
    testing::WorkerProcess::Options options;
    options.endpoint = broker_.endpoint();
    options.queue_name = kQueue;
    options.bucket_root = bucket_root_;
    workers.push_back(std::make_unique<testing::WorkerProcess>(options));
  }
  const CommandResult r = Enqueue();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["Enqueued"], names.size());

  constexpr char kOk[] = R"(sluice_worker_jobs_total{result="ok"})";
  const auto done = [&] { return workers[0]->Metric(kOk) + workers[1]->Metric(kOk); };
  ASSERT_TRUE(WaitFor([&] { return done() == static_cast<double>(names.size()); }, kTimeout))
      << workers[0]->Logs() << workers[1]->Logs();
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string folder = i % 2 == 0 ? "trip/" : "home/";
    const std::string stem = fs::path(names[i]).stem().string();
    SCOPED_TRACE(names[i]);
    for (size_t box : {1000, 200}) {
      const std::string out = Path("resized/" + folder + stem + "-" + std::to_string(box) + ".jpg");
      ASSERT_TRUE(fs::exists(out));
      const testing::ImageInfo info = testing::Inspect(testing::ReadFile(out));
      EXPECT_EQ(std::max(info.width, info.height), box);
    }
    EXPECT_EQ(testing::ReadFile(Path("originals/" + folder + names[i])),
              testing::ReadFile(testing::SamplePhotoPath(names[i])));
  }
  EXPECT_EQ(FilesUnder(Path("resized")).size(), 2 * names.size());
  EXPECT_TRUE(FilesUnder(Path("pending")).empty());
  EXPECT_TRUE(FilesUnder(Path("queued")).empty());
  EXPECT_EQ(Attribute("ApproximateNumberOfMessages"), 0);
  EXPECT_EQ(Attribute("ApproximateNumberOfMessagesNotVisible"), 0);
}

}  // namespace
}  // namespace sluice
