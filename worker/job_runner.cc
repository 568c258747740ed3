#include "worker/job_runner.h"

#include <chrono>

namespace sluice::worker {
namespace {

std::string Dimensions(size_t width, size_t height) {
  return std::to_string(width) + "x" + std::to_string(height);
}

}  // namespace

Result<JobReport, JobError> JobRunner::Run(const Job& job, const StopCheck& stop) const {
  JobReport report;
  const std::string done_key = DoneKey(job.key, options_.defaults);
  // The first place the original is found; then its done key, where a
  // previous delivery of this job left it.
  bool found = false;
  std::string found_at;
  Result<std::string, JobError> original =
      JobError{FailureReason::kNoSuchKey, "no such key: " + job.key};
  for (const std::string& key : SourceKeys(job.key, options_.defaults)) {
    auto read = store_->Read(job.bucket, key, options_.max_input_bytes);
    if (read.ok() || read.error().reason != FailureReason::kNoSuchKey) {
      original = std::move(read);
      found = true;
      found_at = key;
      break;
    }
  }
  if (!found && !done_key.empty()) {
    auto done = store_->Read(job.bucket, done_key, options_.max_input_bytes);
    if (done.ok()) {
      original = std::move(done);
      report.already_done = true;
    } else if (done.error().reason != FailureReason::kNoSuchKey) {
      // There, but unreadable: a disk error must stay transient.
      original = std::move(done);
    }
  }
  if (!original.ok()) return original.error();
  report.bytes_read = original->size();
  if (metrics_ != nullptr) metrics_->BytesRead(report.bytes_read);

  // The original's move begins now, so that its waiting (S3's copy) overlaps
  // the resize; it ends once the outputs are written.
  std::unique_ptr<PendingMove> move;
  if (!report.already_done && !done_key.empty()) {
    move = store_->StartMove(job.bucket, found_at, done_key);
  }
  const auto fail = [&move](const JobError& error) {
    if (move) move->Abandon();
    return error;
  };

  const auto started = std::chrono::steady_clock::now();
  auto resized = Resize(*original, {job.sizes, job.format, job.quality}, options_.limits, stop);
  report.resize_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!resized.ok()) return fail(resized.error());
  report.damage = resized->damage;
  if (metrics_ != nullptr) {
    metrics_->Resized(report.resize_seconds);
    if (!report.damage.empty()) metrics_->DamagedImage();
  }
  report.input_size = Dimensions(resized->input_width, resized->input_height);

  for (const ResizedImage& image : resized->outputs) {
    const std::string key =
        OutputKey(job, options_.defaults, image.box, resized->input_format, image.format);
    auto written = store_->Write(job.bucket, key, image.data);
    if (!written.ok()) return fail(written.error());
    report.bytes_written += image.data.size();
    if (!report.outputs.empty()) report.outputs += ",";
    report.outputs += Dimensions(image.width, image.height);
    if (metrics_ != nullptr) {
      metrics_->BytesWritten(image.data.size());
      metrics_->ImageWritten(image.box);
    }
  }
  if (move) {
    auto moved = move->Finish();
    if (!moved.ok() && moved.error().reason != FailureReason::kNoSuchKey) return moved.error();
    if (!moved.ok()) {
      // A producer may have moved it on (claimed/ to queued/) since we read
      // it; or another delivery of this job moved it to done a moment ago.
      for (const std::string& key : SourceKeys(job.key, options_.defaults)) {
        auto again = store_->Move(job.bucket, key, done_key);
        if (again.ok()) break;
        if (again.error().reason != FailureReason::kNoSuchKey) return again.error();
      }
    }
  }
  return report;
}

}  // namespace sluice::worker
