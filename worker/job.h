// Job: one object to resize, read from a message body, and the keys its
// outputs and its original go to.
//
// A body is either a ResizeJob in protobuf's JSON mapping (proto/job.proto) or
// an S3 event notification from AWS, MinIO or Ceph RGW (common/s3/event.h),
// whose ObjectCreated records name the objects. One S3 event may name several
// objects, so a body gives a list of jobs; a test event gives none, and the
// records of other kinds are listed as skipped, for the worker to log and
// count.
#ifndef SLUICE_WORKER_JOB_H_
#define SLUICE_WORKER_JOB_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bucket_layout.h"
#include "common/s3/event.h"
#include "worker/image_format.h"
#include "worker/job_error.h"

namespace sluice::worker {

// What a job leaves unsaid takes these values (the worker's flags).
struct JobDefaults {
  std::vector<uint32_t> sizes = {1000, 200};
  std::optional<ImageFormat> format;  // nullopt: the input's own format
  uint32_t quality = 85;
  std::string source_prefix = layout::kPending;  // left out of output keys
  // Where an upload under source_prefix may wait once a producer has claimed
  // it (common/bucket_layout.h): "pending/a/cat.jpg" is also looked for at
  // "claimed/a/cat.jpg" and "queued/a/cat.jpg". In the order an upload moves
  // through them: a producer renames claimed/ to queued/ just as a worker may
  // receive the job, and looking in that order cannot miss a forward move.
  std::vector<std::string> waiting_prefixes = {layout::kClaimed, layout::kQueued};
  std::string output_prefix = layout::kResized;
  std::string done_prefix = layout::kOriginals;  // empty: the original stays where it is
};

struct Job {
  std::string bucket;
  std::string key;
  std::vector<uint32_t> sizes;  // largest first, no duplicates
  std::optional<ImageFormat> format;
  uint32_t quality = 85;
  std::string output_prefix;
};

constexpr uint32_t kMaxSize = 10'000;  // the largest box a job may ask for
constexpr size_t kMaxSizesPerJob = 8;

struct ParsedJobs {
  std::vector<Job> jobs;
  std::vector<s3::SkippedRecord> skipped;  // an S3 event's records of other kinds
};

Result<ParsedJobs, JobError> ParseJobs(std::string_view body, const JobDefaults& defaults);

// The key of the output for `box` in `format`: "pending/a/cat.jpg" with source
// prefix "pending/" and output prefix "resized/" gives "resized/a/cat-1000.jpg".
// A key outside the source prefix keeps its whole path under the output
// prefix. The input's extension is kept when the format does not change.
std::string OutputKey(const Job& job, const JobDefaults& defaults, uint32_t box,
                      ImageFormat input_format, ImageFormat output_format);

// Where the original may be, in the order to look: the key itself, then the
// same path under each waiting prefix.
std::vector<std::string> SourceKeys(const std::string& key, const JobDefaults& defaults);

// Where the original goes once done: "pending/a/cat.jpg" gives
// "originals/a/cat.jpg". Empty when done_prefix is empty.
std::string DoneKey(const std::string& key, const JobDefaults& defaults);

}  // namespace sluice::worker

#endif  // SLUICE_WORKER_JOB_H_
