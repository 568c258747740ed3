// JobRunner against a real DirectoryStore on a temporary directory: one job from
// the original to its outputs and its done key, and the same job delivered
// again.
#include "worker/job_runner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/test_images.h"
#include "worker/store/directory_store.h"

namespace sluice::worker {
namespace {

namespace fs = std::filesystem;
using sluice::testing::Inspect;
using sluice::testing::ReadFile;
using sluice::testing::WriteFile;

class JobRunnerTest : public ::testing::Test {
 protected:
  JobRunnerTest() {
    std::string pattern = (fs::temp_directory_path() / "sluice-runner-test-XXXXXX").string();
    EXPECT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    fs::create_directories(root_ / "photos");
    store_ = std::make_unique<DirectoryStore>(root_.string());
  }
  ~JobRunnerTest() override { fs::remove_all(root_); }

  fs::path Bucket() const { return root_ / "photos"; }
  void Put(const std::string& key, const std::string& data) {
    WriteFile((Bucket() / key).string(), data);
  }
  std::string Get(const std::string& key) const { return ReadFile((Bucket() / key).string()); }

  // Every file in the bucket, by key, with its contents.
  std::map<std::string, std::string> Files() const {
    std::map<std::string, std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(Bucket())) {
      if (entry.is_regular_file()) {
        files[fs::relative(entry.path(), Bucket()).string()] = ReadFile(entry.path().string());
      }
    }
    return files;
  }
  std::vector<std::string> Keys() const {
    std::vector<std::string> keys;
    for (const auto& [key, data] : Files()) keys.push_back(key);
    return keys;
  }

  static Job MakeJob(const std::string& key, std::vector<uint32_t> sizes = {1000, 200}) {
    Job job;
    job.bucket = "photos";
    job.key = key;
    job.sizes = std::move(sizes);
    job.output_prefix = "resized/";
    return job;
  }

  Result<JobReport, JobError> Run(const Job& job, JobRunnerOptions options = {}) {
    JobRunner runner(store_.get(), std::move(options), /*metrics=*/nullptr);
    return runner.Run(job, StopCheck{});
  }

  fs::path root_;
  std::unique_ptr<DirectoryStore> store_;
};

TEST_F(JobRunnerTest, WritesEveryOutputAndMovesTheOriginal) {
  const std::string original = ReadFile(sluice::testing::SamplePhotoPath("bridge.jpg"));
  Put("pending/2026/bridge.jpg", original);
  auto report = Run(MakeJob("pending/2026/bridge.jpg"));
  ASSERT_TRUE(report.ok()) << report.error().detail;
  EXPECT_FALSE(report->already_done);
  EXPECT_EQ(report->input_size, "4352x2448");
  EXPECT_EQ(report->outputs, "1000x563,200x113");
  EXPECT_EQ(report->bytes_read, original.size());

  EXPECT_EQ(Keys(),
            (std::vector<std::string>{"originals/2026/bridge.jpg", "resized/2026/bridge-1000.jpg",
                                      "resized/2026/bridge-200.jpg"}));
  EXPECT_EQ(Get("originals/2026/bridge.jpg"), original);
  const std::string large = Get("resized/2026/bridge-1000.jpg");
  const std::string small = Get("resized/2026/bridge-200.jpg");
  EXPECT_EQ(report->bytes_written, large.size() + small.size());
  const auto large_info = Inspect(large);
  EXPECT_EQ(large_info.format, "JPEG");
  EXPECT_EQ(large_info.width, 1000u);
  EXPECT_EQ(large_info.height, 563u);
  const auto small_info = Inspect(small);
  EXPECT_EQ(small_info.width, 200u);
  EXPECT_EQ(small_info.height, 113u);
}

// At-least-once delivery: the second delivery finds the original at its done
// key and makes the same outputs again.
TEST_F(JobRunnerTest, SecondDeliveryRemakesIdenticalOutputs) {
  const std::string bridge = ReadFile(sluice::testing::SamplePhotoPath("bridge.jpg"));
  const std::string png = sluice::testing::MakeImage(640, 480, "PNG");
  const std::vector<std::pair<std::string, std::string>> inputs = {
      {"bridge.jpg", bridge},
      {"gradient.png", png},
      {"gradient.webp", sluice::testing::Reencode(png, "WEBP")},
      {"gradient.gif", sluice::testing::Reencode(png, "GIF")}};
  for (const auto& [name, data] : inputs) {
    SCOPED_TRACE(name);
    Put("pending/" + name, data);
    auto first = Run(MakeJob("pending/" + name));
    ASSERT_TRUE(first.ok()) << first.error().detail;
    EXPECT_FALSE(first->already_done);
    const auto after_first = Files();
    // Remove the outputs, so that what the second run leaves is its own.
    fs::remove_all(Bucket() / "resized");

    auto second = Run(MakeJob("pending/" + name));
    ASSERT_TRUE(second.ok()) << second.error().detail;
    EXPECT_TRUE(second->already_done);
    EXPECT_EQ(second->outputs, first->outputs);
    EXPECT_EQ(second->bytes_written, first->bytes_written);
    const auto after_second = Files();
    EXPECT_EQ(after_second.size(), after_first.size());
    for (const auto& [key, contents] : after_first) {
      auto it = after_second.find(key);
      ASSERT_NE(it, after_second.end()) << key;
      EXPECT_TRUE(it->second == contents) << key << " differs between deliveries";
    }
    EXPECT_FALSE(fs::exists(Bucket() / "pending" / name));
    fs::remove_all(Bucket());
    fs::create_directories(Bucket());
  }
}

TEST_F(JobRunnerTest, MissingOriginalWithoutADoneCopyIsNoSuchKey) {
  Put("originals/other.jpg", ReadFile(sluice::testing::SamplePhotoPath("bridge.jpg")));
  auto report = Run(MakeJob("pending/cat.jpg"));
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().reason, FailureReason::kNoSuchKey);
  EXPECT_EQ(Keys(), (std::vector<std::string>{"originals/other.jpg"}));
}

TEST_F(JobRunnerTest, EmptyDonePrefixLeavesTheOriginalInPlace) {
  const std::string png = sluice::testing::MakeImage(640, 480, "PNG");
  Put("pending/cat.png", png);
  JobRunnerOptions options;
  options.defaults.done_prefix = "";
  auto report = Run(MakeJob("pending/cat.png", {320}), options);
  ASSERT_TRUE(report.ok()) << report.error().detail;
  EXPECT_FALSE(report->already_done);
  EXPECT_EQ(report->outputs, "320x240");
  EXPECT_EQ(Keys(), (std::vector<std::string>{"pending/cat.png", "resized/cat-320.png"}));
  EXPECT_EQ(Get("pending/cat.png"), png);
}

TEST_F(JobRunnerTest, OutputFormatNamesTheOutputs) {
  Put("pending/cat.png", sluice::testing::MakeImage(640, 480, "PNG"));
  Job job = MakeJob("pending/cat.png", {100});
  job.format = ImageFormat::kWebp;
  auto report = Run(job);
  ASSERT_TRUE(report.ok()) << report.error().detail;
  EXPECT_EQ(Keys(), (std::vector<std::string>{"originals/cat.png", "resized/cat-100.webp"}));
  EXPECT_EQ(Inspect(Get("resized/cat-100.webp")).format, "WEBP");
}

// A job that fails writes nothing and leaves the original where it was, for
// the dead-letter queue's owner to look at.
TEST_F(JobRunnerTest, FailedJobLeavesTheOriginalAndWritesNothing) {
  const std::string bridge = ReadFile(sluice::testing::SamplePhotoPath("bridge.jpg"));
  // Its headers alone: no pixel decodes (a photo cut later renders what it has).
  const std::string truncated = bridge.substr(0, 200);
  Put("pending/broken.jpg", truncated);
  auto report = Run(MakeJob("pending/broken.jpg"));
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().reason, FailureReason::kCorruptImage);
  EXPECT_EQ(Keys(), (std::vector<std::string>{"pending/broken.jpg"}));
}

TEST_F(JobRunnerTest, InputOverTheByteLimitIsTooLarge) {
  Put("pending/cat.png", sluice::testing::MakeImage(64, 64, "PNG"));
  JobRunnerOptions options;
  options.max_input_bytes = 10;
  auto report = Run(MakeJob("pending/cat.png"), options);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().reason, FailureReason::kTooLarge);
  EXPECT_EQ(Keys(), (std::vector<std::string>{"pending/cat.png"}));
}

// A done copy that is there but cannot be read keeps its own reason: were it
// reported as no_such_key, a disk error under originals/ would dead-letter the
// job instead of retrying it.
TEST_F(JobRunnerTest, UnreadableDoneCopyKeepsItsReason) {
  Put("originals/cat.png", sluice::testing::MakeImage(64, 64, "PNG"));
  JobRunnerOptions options;
  options.max_input_bytes = 10;
  auto report = Run(MakeJob("pending/cat.png"), options);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().reason, FailureReason::kTooLarge) << report.error().detail;
}

// The upload moves pending/ -> claimed/ -> queued/ while the job may already
// be running; wherever it is, it is found and ends at its done key.
TEST_F(JobRunnerTest, OriginalWaitingUnderAProducersPrefixIsFoundAndMoved) {
  const std::string png = sluice::testing::MakeImage(64, 64, "PNG");
  for (const std::string prefix : {"claimed/", "queued/"}) {
    SCOPED_TRACE(prefix);
    Put(prefix + "cat.png", png);
    auto report = Run(MakeJob("pending/cat.png", {32}));
    ASSERT_TRUE(report.ok()) << report.error().detail;
    EXPECT_FALSE(report->already_done);
    EXPECT_EQ(Keys(), (std::vector<std::string>{"originals/cat.png", "resized/cat-32.png"}));
    fs::remove_all(Bucket());
    fs::create_directories(Bucket());
  }
}

}  // namespace
}  // namespace sluice::worker
