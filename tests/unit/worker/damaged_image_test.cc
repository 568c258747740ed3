// A damaged photo through JobRunner: by default it is resized, the report
// carries the decoder's warning for the job's log line, and
// sluice_worker_damaged_images_total counts it; with strict_decode the job
// fails as corrupt_image and nothing is written. The store is a map, the one
// boundary faked.
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/test_images.h"
#include "worker/job_runner.h"
#include "worker/metrics.h"
#include "worker/store/bucket_store.h"

namespace sluice::worker {
namespace {

using sluice::testing::ReadFile;
using sluice::testing::SamplePhotoPath;

// One bucket's objects in memory, by key.
class MapStore : public BucketStore {
 public:
  Result<std::string, JobError> Read(const std::string&, const std::string& key,
                                     size_t max_bytes) const override {
    auto it = objects_.find(key);
    if (it == objects_.end()) return JobError{FailureReason::kNoSuchKey, key};
    if (it->second.size() > max_bytes) return JobError{FailureReason::kTooLarge, key};
    return it->second;
  }
  Result<bool, JobError> Write(const std::string&, const std::string& key,
                               std::string_view data) const override {
    objects_[key] = std::string(data);
    return true;
  }
  Result<bool, JobError> Move(const std::string&, const std::string& from,
                              const std::string& to) const override {
    auto it = objects_.find(from);
    if (it == objects_.end()) return JobError{FailureReason::kNoSuchKey, from};
    objects_[to] = std::move(it->second);
    objects_.erase(it);
    return true;
  }

  std::vector<std::string> Keys() const {
    std::vector<std::string> keys;
    for (const auto& [key, data] : objects_) keys.push_back(key);
    return keys;
  }

  mutable std::map<std::string, std::string> objects_;
};

class DamagedImageTest : public ::testing::Test {
 protected:
  DamagedImageTest()
      : registry_(std::make_shared<prometheus::Registry>()), metrics_(registry_, 1, {1000, 200}) {}

  Result<JobReport, JobError> Run(const std::string& original, bool strict_decode) {
    store_.objects_["pending/cat.jpg"] = original;
    JobRunnerOptions options;
    options.limits.strict_decode = strict_decode;
    JobRunner runner(&store_, options, &metrics_);
    Job job;
    job.bucket = "photos";
    job.key = "pending/cat.jpg";
    job.sizes = {1000, 200};
    job.output_prefix = "resized/";
    return runner.Run(job, StopCheck{});
  }

  double Damaged() const {
    for (const auto& family : registry_->Collect()) {
      if (family.name == "sluice_worker_damaged_images_total") {
        return family.metric.at(0).counter.value;
      }
    }
    ADD_FAILURE() << "no sluice_worker_damaged_images_total";
    return -1;
  }

  static std::string CutOffBridge() {
    const std::string bridge = ReadFile(SamplePhotoPath("bridge.jpg"));
    return bridge.substr(0, bridge.size() * 6 / 10);
  }

  std::shared_ptr<prometheus::Registry> registry_;
  WorkerMetrics metrics_;
  MapStore store_;
};

TEST_F(DamagedImageTest, CleanPhotoReportsNoDamage) {
  auto report = Run(ReadFile(SamplePhotoPath("bridge.jpg")), /*strict_decode=*/false);
  ASSERT_TRUE(report.ok()) << report.error().detail;
  EXPECT_EQ(report->damage, "");
  EXPECT_EQ(Damaged(), 0);
}

TEST_F(DamagedImageTest, DamagedPhotoIsResizedReportedAndCounted) {
  auto report = Run(CutOffBridge(), /*strict_decode=*/false);
  ASSERT_TRUE(report.ok()) << report.error().detail;
  EXPECT_EQ(report->damage, "Premature end of JPEG file");
  EXPECT_EQ(report->input_size, "4352x2448");
  EXPECT_EQ(report->outputs, "1000x563,200x113");
  EXPECT_EQ(store_.Keys(), (std::vector<std::string>{"originals/cat.jpg", "resized/cat-1000.jpg",
                                                     "resized/cat-200.jpg"}));
  EXPECT_EQ(Damaged(), 1);
}

TEST_F(DamagedImageTest, StrictDecodeFailsTheJobAndWritesNothing) {
  auto report = Run(CutOffBridge(), /*strict_decode=*/true);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().reason, FailureReason::kCorruptImage);
  EXPECT_NE(report.error().detail.find("Premature end of JPEG file"), std::string::npos)
      << report.error().detail;
  EXPECT_EQ(store_.Keys(), std::vector<std::string>{"pending/cat.jpg"});
  EXPECT_EQ(Damaged(), 0);
}

}  // namespace
}  // namespace sluice::worker
