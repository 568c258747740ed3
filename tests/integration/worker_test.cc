// Integration tests of the real sluice-worker binary against a real broker
// over ipc://, with real files in a bucket root and real photos: the resize
// pipeline, job bodies (ResizeJob and S3 events), hostile inputs and the
// dead-letter queue, and the worker's life cycle (kill -9, SIGTERM drain,
// duplicates across workers, a broker restart).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "client/client.h"
#include "tests/support/broker_process.h"
#include "tests/support/test_images.h"
#include "tests/support/worker_process.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::seconds;
using testing::Inspect;
using testing::ReadFile;
using testing::SamplePhotoNames;
using testing::SamplePhotoPath;
using testing::WaitFor;
using testing::WorkerProcess;

constexpr char kQueue[] = "jobs";  // dead-letters to kDeadLetterQueue
constexpr char kDeadLetterQueue[] = "jobs-dlq";
constexpr char kPlainQueue[] = "plain";  // has no dead-letter queue
constexpr char kBucket[] = "photos";
// Generous, for a loaded machine; a passing run takes a fraction of it.
constexpr auto kJobsTimeout = seconds(90);
// How soon a worker with nothing left to finish exits after SIGTERM: its
// receives' long poll (2 s) ends, then the metrics server's poll (up to 2 s
// more in civetweb's mg_stop); the rest is slack for a loaded machine.
constexpr auto kPromptExit = seconds(8);

std::string JobBody(const std::string& key, const json& options = json::object()) {
  json body = {{"bucket", kBucket}, {"key", key}};
  body.update(options);
  return body.dump();
}

// The width and height of sample photo `name`, decoded once per process.
std::pair<size_t, size_t> PhotoSize(const std::string& name) {
  static std::map<std::string, std::pair<size_t, size_t>> sizes;
  if (!sizes.contains(name)) {
    const auto info = Inspect(ReadFile(SamplePhotoPath(name)));
    sizes[name] = {info.width, info.height};
  }
  return sizes[name];
}

// "bridge.jpg" -> "bridge".
std::string Stem(const std::string& name) { return fs::path(name).stem().string(); }

// Checks that the image at `path` is a `format` image fitting a box x box
// square exactly (the sources are all larger), with the aspect ratio of a
// width x height source to within a pixel's rounding, and without metadata.
void ExpectResized(const std::string& path, size_t box, size_t width, size_t height,
                   const std::string& format = "JPEG") {
  SCOPED_TRACE(path);
  ASSERT_TRUE(fs::is_regular_file(path));
  const testing::ImageInfo info = Inspect(ReadFile(path));
  EXPECT_EQ(info.format, format);
  EXPECT_FALSE(info.has_profiles);
  EXPECT_EQ(std::max(info.width, info.height), box);
  EXPECT_EQ(info.width >= info.height, width >= height) << "turned on its side";
  const double short_side = static_cast<double>(std::min(width, height)) *
                            static_cast<double>(box) / static_cast<double>(std::max(width, height));
  EXPECT_NEAR(static_cast<double>(std::min(info.width, info.height)), short_side, 1.0)
      << info.width << "x" << info.height << " from " << width << "x" << height;
}

// Every file's path under `dir` (recursively, symlinks not followed), relative.
std::set<std::string> FilesUnder(const std::string& dir) {
  std::set<std::string> files;
  if (!fs::exists(dir)) return files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_directory()) files.insert(fs::relative(entry.path(), dir).string());
  }
  return files;
}

// Every path under `dir` but those under `except`, with its size and mtime
// (symlinks not followed), to tell whether anything was written.
std::map<std::string, std::string> Snapshot(const std::string& dir, const std::string& except) {
  std::map<std::string, std::string> state;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it) {
    const std::string path = it->path().string();
    if (path == except) {
      it.disable_recursion_pending();
      continue;
    }
    const auto status = it->symlink_status();
    std::string what = std::to_string(static_cast<int>(status.type()));
    if (fs::is_regular_file(status)) {
      what += " " + std::to_string(fs::file_size(it->path())) + " " +
              std::to_string(fs::last_write_time(it->path()).time_since_epoch().count());
    } else if (fs::is_symlink(status)) {
      what += " -> " + fs::read_symlink(it->path()).string();
    }
    state[path] = what;
  }
  return state;
}

constexpr char kOk[] = R"(sluice_worker_jobs_total{result="ok"})";

// Waits until `series` of the worker's metrics is `value`. A job's result is
// counted after its message is deleted, so this also waits for the deletes.
bool WaitForMetric(const WorkerProcess& worker, const std::string& series, double value) {
  return WaitFor([&] { return worker.Metric(series) == value; }, kJobsTimeout);
}

class WorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bucket_root_ = dir_.path() + "/buckets";
    fs::create_directories(bucket_root_ + "/" + kBucket);
    CreateQueue(kDeadLetterQueue);
    CreateQueue(
        kQueue,
        {{"RedrivePolicy",
          json{{"deadLetterTargetArn", kDeadLetterQueue}, {"maxReceiveCount", "10"}}.dump()}});
    CreateQueue(kPlainQueue);
  }

  void CreateQueue(const std::string& name, std::map<std::string, std::string> attributes = {}) {
    pb::CreateQueueRequest req;
    req.set_queue_name(name);
    req.mutable_attributes()->insert(attributes.begin(), attributes.end());
    auto r = client_.CreateQueue(req);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  std::string Path(const std::string& key) const {
    return bucket_root_ + "/" + kBucket + "/" + key;
  }
  void Put(const std::string& key, const std::string& data) { testing::WriteFile(Path(key), data); }
  void PutPhoto(const std::string& key, const std::string& name) {
    fs::create_directories(fs::path(Path(key)).parent_path());
    fs::copy_file(SamplePhotoPath(name), Path(key));
  }

  void Send(const std::string& body, const std::string& queue = kQueue) {
    pb::SendMessageRequest req;
    req.set_queue_name(queue);
    req.mutable_entry()->set_body(body);
    auto r = client_.SendMessage(req);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  // ApproximateNumberOfMessages + ...NotVisible: what is still to do.
  int MessagesLeft(const std::string& queue = kQueue) {
    pb::GetQueueAttributesRequest req;
    req.set_queue_name(queue);
    req.add_attribute_names("All");
    auto r = client_.GetQueueAttributes(req);
    if (!r.ok()) return -1;
    return std::stoi(r->attributes().at("ApproximateNumberOfMessages")) +
           std::stoi(r->attributes().at("ApproximateNumberOfMessagesNotVisible"));
  }
  int VisibleMessages(const std::string& queue = kQueue) {
    pb::GetQueueAttributesRequest req;
    req.set_queue_name(queue);
    req.add_attribute_names("ApproximateNumberOfMessages");
    auto r = client_.GetQueueAttributes(req);
    return r.ok() ? std::stoi(r->attributes().at("ApproximateNumberOfMessages")) : -1;
  }
  bool WaitForQueueEmpty(const std::string& queue = kQueue) {
    return WaitFor([&] { return MessagesLeft(queue) == 0; }, kJobsTimeout);
  }

  // Receives `n` messages from the dead-letter queue, with their attributes.
  std::vector<pb::Message> ReceiveDeadLetters(size_t n) {
    std::map<std::string, pb::Message> got;
    WaitFor(
        [&] {
          pb::ReceiveMessageRequest req;
          req.set_queue_name(kDeadLetterQueue);
          req.set_max_number_of_messages(10);
          req.set_wait_time_seconds(1);
          req.set_visibility_timeout(600);
          req.add_message_attribute_names("All");
          auto r = client_.ReceiveMessage(req);
          if (r.ok()) {
            for (const pb::Message& m : r->messages()) got[m.message_id()] = m;
          }
          return got.size() >= n;
        },
        kJobsTimeout);
    std::vector<pb::Message> messages;
    for (auto& [id, m] : got) messages.push_back(std::move(m));
    return messages;
  }

  // A worker of this test's broker and bucket root.
  std::unique_ptr<WorkerProcess> StartWorker(int concurrency = 1,
                                             int visibility_timeout_seconds = 30,
                                             int grace_period_seconds = 10,
                                             const std::string& queue = kQueue) {
    WorkerProcess::Options options;
    options.endpoint = broker_.endpoint();
    options.queue_name = queue;
    options.bucket_root = bucket_root_;
    options.concurrency = concurrency;
    options.visibility_timeout_seconds = visibility_timeout_seconds;
    options.grace_period_seconds = grace_period_seconds;
    return std::make_unique<WorkerProcess>(std::move(options));
  }

  testing::TempDir dir_;
  testing::BrokerProcess broker_;
  Client client_{broker_.endpoint()};
  std::string bucket_root_;
};

TEST_F(WorkerTest, ResizesSamplePhotosAndMovesOriginals) {
  auto worker = StartWorker(2);
  for (const std::string& name : SamplePhotoNames()) {
    PutPhoto("pending/trip/" + name, name);
    Send(JobBody("pending/trip/" + name));
  }
  ASSERT_TRUE(WaitForMetric(*worker, kOk, 5)) << worker->Logs();

  for (const std::string& name : SamplePhotoNames()) {
    const auto [width, height] = PhotoSize(name);
    ExpectResized(Path("resized/trip/" + Stem(name) + "-1000.jpg"), 1000, width, height);
    ExpectResized(Path("resized/trip/" + Stem(name) + "-200.jpg"), 200, width, height);
    EXPECT_FALSE(fs::exists(Path("pending/trip/" + name)));
    EXPECT_EQ(ReadFile(Path("originals/trip/" + name)), ReadFile(SamplePhotoPath(name)));
  }
  EXPECT_EQ(FilesUnder(Path("resized")).size(), 2 * SamplePhotoNames().size());
  pb::GetQueueAttributesRequest req;
  req.set_queue_name(kQueue);
  req.add_attribute_names("All");
  auto attributes = client_.GetQueueAttributes(req);
  ASSERT_TRUE(attributes.ok());
  EXPECT_EQ(attributes->attributes().at("ApproximateNumberOfMessages"), "0");
  EXPECT_EQ(attributes->attributes().at("ApproximateNumberOfMessagesNotVisible"), "0");

  const std::string metrics = worker->ScrapeMetrics();
  EXPECT_EQ(testing::MetricValue(metrics, R"(sluice_worker_jobs_total{result="failed"})"), 0);
  EXPECT_EQ(testing::MetricValue(metrics, R"(sluice_worker_images_written_total{size="1000"})"), 5);
  EXPECT_EQ(testing::MetricValue(metrics, R"(sluice_worker_images_written_total{size="200"})"), 5);
}

TEST_F(WorkerTest, ExifRotatedPhotoComesOutUpright) {
  auto worker = StartWorker();
  // bridge.jpg is landscape; orientation 6 says "turn 90 degrees clockwise".
  Put("pending/rotated.jpg",
      testing::WithExifOrientation(ReadFile(SamplePhotoPath("bridge.jpg")), 6));
  // A gradient red at the top: turned clockwise, its top-left is blue.
  Put("pending/gradient.jpg",
      testing::WithExifOrientation(testing::MakeImage(400, 300, "JPEG"), 6));
  Send(JobBody("pending/rotated.jpg"));
  Send(JobBody("pending/gradient.jpg"));
  ASSERT_TRUE(WaitForQueueEmpty()) << worker->Logs();

  const auto [width, height] = PhotoSize("bridge.jpg");
  ExpectResized(Path("resized/rotated-1000.jpg"), 1000, height, width);
  ExpectResized(Path("resized/rotated-200.jpg"), 200, height, width);
  const std::string gradient = ReadFile(Path("resized/gradient-1000.jpg"));
  const testing::ImageInfo info = Inspect(gradient);
  EXPECT_EQ(info.width, 300u);  // never enlarged, only turned
  EXPECT_EQ(info.height, 400u);
  EXPECT_LE(info.orientation, 1) << "a turned image must not keep a turning tag";
  const testing::Rgb top_left = testing::MeanColorTopLeft(gradient);
  EXPECT_GT(top_left.b, top_left.r + 50) << "turned the wrong way";
}

TEST_F(WorkerTest, S3EventWithUrlEncodedKey) {
  auto worker = StartWorker();
  PutPhoto("pending/summer trip/my cat (1).jpg", "friends.jpg");
  // As S3 sends it: "+" for a space, "%28" and "%29" for the parentheses.
  Send(R"({"Records": [{
    "eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
    "s3": {"bucket": {"name": "photos"},
           "object": {"key": "pending/summer+trip/my+cat+%281%29.jpg", "size": 575004}}}]})");
  ASSERT_TRUE(WaitForMetric(*worker, kOk, 1)) << worker->Logs();
  EXPECT_EQ(MessagesLeft(), 0);

  const auto [width, height] = PhotoSize("friends.jpg");
  ExpectResized(Path("resized/summer trip/my cat (1)-1000.jpg"), 1000, width, height);
  ExpectResized(Path("resized/summer trip/my cat (1)-200.jpg"), 200, width, height);
  EXPECT_TRUE(fs::exists(Path("originals/summer trip/my cat (1).jpg")));
}

TEST_F(WorkerTest, JobChoosesItsSizesAndFormat) {
  auto worker = StartWorker();
  PutPhoto("pending/opt/bridge.jpg", "bridge.jpg");
  Send(JobBody("pending/opt/bridge.jpg", {{"sizes", json::array({300})}, {"format", "png"}}));
  ASSERT_TRUE(WaitForMetric(*worker, kOk, 1)) << worker->Logs();
  EXPECT_EQ(MessagesLeft(), 0);

  const auto [width, height] = PhotoSize("bridge.jpg");
  ExpectResized(Path("resized/opt/bridge-300.png"), 300, width, height, "PNG");
  EXPECT_EQ(FilesUnder(Path("resized")), std::set<std::string>{"opt/bridge-300.png"});
  // A size the job chose, not one of the worker's own, is counted as "other".
  EXPECT_EQ(worker->Metric(R"(sluice_worker_images_written_total{size="other"})"), 1);
}

TEST_F(WorkerTest, HostileInputsAreDeadLetteredWhileGoodJobsGoOn) {
  // Outside the bucket root: a real image that symlinks and ".." point at.
  const std::string outside = dir_.path() + "/outside";
  fs::create_directories(outside);
  fs::copy_file(SamplePhotoPath("umang.jpg"), outside + "/real.jpg");
  fs::create_directories(Path("pending"));
  fs::create_symlink(outside + "/real.jpg", Path("pending/link.jpg"));
  fs::create_symlink(outside, Path("pending/linkdir"));
  // A bucket whose output directory is a symlink out of it.
  const std::string evil = bucket_root_ + "/evil";
  fs::create_directories(evil + "/pending");
  fs::copy_file(SamplePhotoPath("picture-1a.jpg"), evil + "/pending/ok.jpg");
  fs::create_symlink(outside, evil + "/resized");

  const std::string photo = ReadFile(SamplePhotoPath("bridge.jpg"));
  Put("pending/bomb.png", testing::MakePngBomb(50000, 50000));
  // Its headers alone: no pixel decodes (a photo cut later renders what it has).
  Put("pending/truncated.jpg", photo.substr(0, 200));
  Put("pending/notes.jpg", "these are not the pixels you are looking for\n");
  Put("pending/empty.jpg", "");
  Put("pending/drawing.png",
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>)");

  const std::map<std::string, std::string> hostile = {
      {JobBody("pending/bomb.png"), "too_large"},
      {JobBody("pending/truncated.jpg"), "corrupt_image"},
      {JobBody("pending/notes.jpg"), "unsupported_format"},
      {JobBody("pending/empty.jpg"), "corrupt_image"},
      {JobBody("pending/drawing.png"), "unsupported_format"},
      {JobBody("../../etc/passwd"), "invalid_key"},
      {JobBody("/etc/passwd"), "invalid_key"},
      {JobBody("../../outside/real.jpg"), "invalid_key"},
      {JobBody(outside + "/real.jpg"), "invalid_key"},
      {JobBody("pending/link.jpg"), "invalid_key"},
      {JobBody("pending/linkdir/real.jpg"), "invalid_key"},
      {json{{"bucket", "evil"}, {"key", "pending/ok.jpg"}}.dump(), "invalid_key"},
      {json{{"bucket", ".."}, {"key", "outside/real.jpg"}}.dump(), "invalid_key"},
      {JobBody("pending/missing.jpg"), "no_such_key"},
      {JobBody("pending/a.jpg", {{"sizes", json::array({0})}}), "invalid_job"},
      {"this is not JSON", "invalid_job"},
  };
  const auto outside_before = Snapshot(dir_.path(), bucket_root_ + "/" + kBucket);
  const auto passwd_before = fs::last_write_time("/etc/passwd");

  auto worker = StartWorker(2);
  for (const auto& [body, reason] : hostile) Send(body);
  for (const std::string name : {"bridge.jpg", "friends.jpg"}) {
    PutPhoto("pending/good/" + name, name);
    Send(JobBody("pending/good/" + name));
  }

  const std::vector<pb::Message> dead = ReceiveDeadLetters(hostile.size());
  ASSERT_EQ(dead.size(), hostile.size()) << worker->Logs();
  std::map<std::string, int> reasons;
  for (const pb::Message& m : dead) {
    SCOPED_TRACE(m.body());
    ASSERT_TRUE(hostile.contains(m.body()));
    ASSERT_TRUE(m.message_attributes().contains("SluiceFailureReason"));
    const std::string reason = m.message_attributes().at("SluiceFailureReason").string_value();
    EXPECT_EQ(reason, hostile.at(m.body()))
        << m.message_attributes().at("SluiceFailureDetail").string_value();
    EXPECT_FALSE(m.message_attributes().at("SluiceFailureDetail").string_value().empty());
    ++reasons[reason];
  }
  ASSERT_TRUE(WaitForMetric(*worker, kOk, 2)) << worker->Logs();
  ASSERT_TRUE(WaitForMetric(*worker, R"(sluice_worker_jobs_total{result="dead_lettered"})",
                            static_cast<double>(hostile.size())));
  EXPECT_EQ(MessagesLeft(), 0);
  EXPECT_TRUE(worker->process().Running());

  for (const std::string name : {"bridge.jpg", "friends.jpg"}) {
    const auto [width, height] = PhotoSize(name);
    ExpectResized(Path("resized/good/" + Stem(name) + "-1000.jpg"), 1000, width, height);
    ExpectResized(Path("resized/good/" + Stem(name) + "-200.jpg"), 200, width, height);
  }
  EXPECT_EQ(FilesUnder(Path("resized")).size(), 4u) << "only the good jobs have outputs";
  EXPECT_EQ(Snapshot(dir_.path(), bucket_root_ + "/" + kBucket), outside_before);
  EXPECT_EQ(fs::last_write_time("/etc/passwd"), passwd_before);

  const std::string metrics = worker->ScrapeMetrics();
  for (const auto& [reason, count] : reasons) {
    EXPECT_EQ(testing::MetricValue(metrics,
                                   "sluice_worker_job_failures_total{reason=\"" + reason + "\"}"),
              count)
        << reason;
  }
}

TEST_F(WorkerTest, WithoutDeadLetterQueueAHostileJobIsDroppedAsInvalid) {
  auto worker = StartWorker(1, 30, 10, kPlainQueue);
  Put("pending/notes.jpg", "not an image");
  PutPhoto("pending/good.jpg", "umang.jpg");
  Send(JobBody("pending/notes.jpg"), kPlainQueue);
  Send(JobBody("pending/good.jpg"), kPlainQueue);
  ASSERT_TRUE(WaitForMetric(*worker, kOk, 1)) << worker->Logs();
  ASSERT_TRUE(WaitForMetric(*worker, R"(sluice_worker_jobs_total{result="invalid"})", 1));
  EXPECT_EQ(MessagesLeft(kPlainQueue), 0);

  const auto [width, height] = PhotoSize("umang.jpg");
  ExpectResized(Path("resized/good-1000.jpg"), 1000, width, height);
  EXPECT_TRUE(worker->process().Running());
  EXPECT_EQ(worker->Metric(R"(sluice_worker_job_failures_total{reason="unsupported_format"})"), 1);
  EXPECT_EQ(worker->Metric(R"(sluice_worker_jobs_total{result="dead_lettered"})"), 0);
  EXPECT_EQ(MessagesLeft(kDeadLetterQueue), 0);
}

TEST_F(WorkerTest, KillNineMidJobLosesNothing) {
  constexpr int kCopies = 4;
  std::vector<std::pair<std::string, std::string>> jobs;  // key, sample photo
  for (int i = 0; i < kCopies; ++i) {
    for (const std::string& name : SamplePhotoNames()) {
      jobs.emplace_back("pending/batch/" + std::to_string(i) + "-" + name, name);
      PutPhoto(jobs.back().first, name);
    }
  }
  auto first = StartWorker(2, /*visibility_timeout_seconds=*/3);
  for (const auto& [key, name] : jobs) Send(JobBody(key));
  ASSERT_TRUE(WaitFor(
      [&] {
        return !FilesUnder(Path("resized")).empty() &&
               first->Metric("sluice_worker_jobs_in_flight") > 0;
      },
      kJobsTimeout))
      << first->Logs();
  first->process().Signal(SIGKILL);
  ASSERT_EQ(first->process().Wait(seconds(10)), -SIGKILL);
  ASSERT_GT(MessagesLeft(), 0) << "every job was done before the kill: nothing was tested";

  auto second = StartWorker(2, /*visibility_timeout_seconds=*/3);
  ASSERT_TRUE(WaitForQueueEmpty()) << second->Logs();
  for (const auto& [key, name] : jobs) {
    const std::string stem = Stem(fs::path(key).filename().string());
    const auto [width, height] = PhotoSize(name);
    ExpectResized(Path("resized/batch/" + stem + "-1000.jpg"), 1000, width, height);
    ExpectResized(Path("resized/batch/" + stem + "-200.jpg"), 200, width, height);
    EXPECT_TRUE(fs::exists(Path("originals/batch/" + fs::path(key).filename().string()))) << key;
  }
}

TEST_F(WorkerTest, TwoWorkersAndDuplicateJobsLeaveWholeImages) {
  constexpr int kDuplicates = 3;
  for (const std::string& name : SamplePhotoNames()) PutPhoto("pending/dup/" + name, name);
  auto a = StartWorker(2);
  auto b = StartWorker(2);
  for (int i = 0; i < kDuplicates; ++i) {
    for (const std::string& name : SamplePhotoNames()) Send(JobBody("pending/dup/" + name));
  }
  const double jobs = static_cast<double>(kDuplicates * SamplePhotoNames().size());
  ASSERT_TRUE(WaitFor([&] { return a->Metric(kOk) + b->Metric(kOk) == jobs; }, kJobsTimeout))
      << a->Logs() << b->Logs();
  EXPECT_EQ(MessagesLeft(), 0);

  for (const std::string& name : SamplePhotoNames()) {
    const auto [width, height] = PhotoSize(name);
    ExpectResized(Path("resized/dup/" + Stem(name) + "-1000.jpg"), 1000, width, height);
    ExpectResized(Path("resized/dup/" + Stem(name) + "-200.jpg"), 200, width, height);
    EXPECT_EQ(ReadFile(Path("originals/dup/" + name)), ReadFile(SamplePhotoPath(name)));
  }
  for (const std::string& file : FilesUnder(bucket_root_)) {
    EXPECT_EQ(file.find(".sluice-tmp-"), std::string::npos) << file;
  }
  EXPECT_EQ(FilesUnder(Path("resized")).size(), 2 * SamplePhotoNames().size());
}

TEST_F(WorkerTest, SigtermLetsTheRunningJobFinishAndLeavesTheRestQueued) {
  const std::vector<std::string> names = {"bridge.jpg", "aitzgorri.jpg", "umang.jpg"};
  for (const std::string& name : names) PutPhoto("pending/" + name, name);
  auto first = StartWorker(1, 30, /*grace_period_seconds=*/60);
  for (const std::string& name : names) Send(JobBody("pending/" + name));
  ASSERT_TRUE(
      WaitFor([&] { return first->Metric("sluice_worker_jobs_in_flight") == 1; }, kJobsTimeout))
      << first->Logs();
  first->process().Signal(SIGTERM);
  ASSERT_EQ(first->process().Wait(seconds(60)), 0) << first->Logs();

  // Each job was done whole or not at all; the running one was done.
  int done = 0;
  for (const std::string& name : names) {
    const bool moved = fs::exists(Path("originals/" + name));
    EXPECT_NE(moved, fs::exists(Path("pending/" + name))) << name;
    EXPECT_EQ(fs::exists(Path("resized/" + Stem(name) + "-1000.jpg")), moved) << name;
    EXPECT_EQ(fs::exists(Path("resized/" + Stem(name) + "-200.jpg")), moved) << name;
    done += moved ? 1 : 0;
  }
  EXPECT_GE(done, 1);
  EXPECT_EQ(VisibleMessages(), static_cast<int>(names.size()) - done);
  EXPECT_EQ(MessagesLeft(), static_cast<int>(names.size()) - done);

  auto second = StartWorker();
  ASSERT_TRUE(WaitForQueueEmpty()) << second->Logs();
  for (const std::string& name : names) {
    const auto [width, height] = PhotoSize(name);
    ExpectResized(Path("resized/" + Stem(name) + "-1000.jpg"), 1000, width, height);
  }
}

TEST_F(WorkerTest, SigtermHandsBackAJobThatOutlastsTheGracePeriod) {
  PutPhoto("pending/slow.jpg", "bridge.jpg");
  // A large PNG output makes a job of seconds, far more than the grace.
  const std::string body =
      JobBody("pending/slow.jpg", {{"sizes", json::array({2000})}, {"format", "png"}});
  auto first = StartWorker(1, /*visibility_timeout_seconds=*/600, /*grace_period_seconds=*/0);
  Send(body);
  ASSERT_TRUE(
      WaitFor([&] { return first->Metric("sluice_worker_jobs_in_flight") == 1; }, kJobsTimeout))
      << first->Logs();
  const auto signalled = std::chrono::steady_clock::now();
  first->process().Signal(SIGTERM);
  ASSERT_EQ(first->process().Wait(seconds(30)), 0) << first->Logs();
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, kPromptExit) << first->Logs();

  // Handed back with visibility 0, long before its 600 s visibility timeout.
  EXPECT_EQ(VisibleMessages(), 1) << first->Logs();
  EXPECT_TRUE(fs::exists(Path("pending/slow.jpg")));
  EXPECT_TRUE(FilesUnder(Path("resized")).empty());

  auto second = StartWorker();
  ASSERT_TRUE(WaitForQueueEmpty()) << second->Logs();
  const auto [width, height] = PhotoSize("bridge.jpg");
  ExpectResized(Path("resized/slow-2000.png"), 2000, width, height, "PNG");
}

TEST_F(WorkerTest, SigtermOfAnIdleWorkerExitsPromptly) {
  // A drain that waited out its grace would take 30 s.
  auto worker = StartWorker(1, 30, /*grace_period_seconds=*/30);
  const auto signalled = std::chrono::steady_clock::now();
  worker->process().Signal(SIGTERM);
  ASSERT_EQ(worker->process().Wait(seconds(60)), 0) << worker->Logs();
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, kPromptExit);
}

TEST(WorkerBrokerTest, ReconnectsToARestartedBroker) {
  testing::TempDir dir;
  const std::string endpoint = "ipc://" + dir.path() + "/broker.sock";
  const std::string data_dir = dir.path() + "/data";
  const std::string bucket_root = dir.path() + "/buckets";
  const std::string pending = bucket_root + "/" + kBucket + "/pending/";
  fs::create_directories(pending);
  fs::copy_file(SamplePhotoPath("bridge.jpg"), pending + "before.jpg");
  fs::copy_file(SamplePhotoPath("friends.jpg"), pending + "after.jpg");

  auto broker = testing::StartBroker(endpoint, data_dir);
  Client client(endpoint, ClientOptions{.call_timeout_ms = 2000});
  pb::CreateQueueRequest create;
  create.set_queue_name(kQueue);
  ASSERT_TRUE(client.CreateQueue(create).ok());
  WorkerProcess::Options options;
  options.endpoint = endpoint;
  options.queue_name = kQueue;
  options.bucket_root = bucket_root;
  WorkerProcess worker(options);
  const std::string resized = bucket_root + "/" + kBucket + "/resized/";
  pb::SendMessageRequest send;
  send.set_queue_name(kQueue);
  send.mutable_entry()->set_body(JobBody("pending/before.jpg"));
  ASSERT_TRUE(client.SendMessage(send).ok());
  ASSERT_TRUE(WaitForMetric(worker, kOk, 1)) << worker.Logs();
  EXPECT_TRUE(fs::exists(resized + "before-200.jpg"));

  broker->Signal(SIGTERM);
  ASSERT_EQ(broker->Wait(seconds(10)), 0);
  // The worker finds the broker gone (a receive goes unanswered) and retries.
  ASSERT_TRUE(
      WaitFor([&] { return worker.Metric("sluice_worker_broker_errors_total") > 0; }, kJobsTimeout))
      << worker.Logs();
  broker = testing::StartBroker(endpoint, data_dir);
  EXPECT_TRUE(worker.process().Running());
  send.mutable_entry()->set_body(JobBody("pending/after.jpg"));
  ASSERT_TRUE(client.SendMessage(send).ok());
  ASSERT_TRUE(WaitForMetric(worker, kOk, 2)) << worker.Logs();
  EXPECT_TRUE(fs::exists(resized + "after-1000.jpg"));
  EXPECT_TRUE(fs::exists(resized + "after-200.jpg"));
  EXPECT_TRUE(fs::exists(bucket_root + "/" + kBucket + "/originals/after.jpg"));
  EXPECT_TRUE(worker.process().Running());
}

}  // namespace
}  // namespace sluice
