// JobRunner: does one job, start to end, against the bucket store: reads the
// original, resizes it, writes every output atomically, then moves the
// original to its done location. It knows nothing of the broker.
//
// The original is looked for at the job's key, then where a producer leaves
// a claimed upload (SourceKeys). Idempotent, because delivery is
// at-least-once: when the original is gone
// from its key but is at its done key (a previous delivery finished), the
// outputs are made again from there, byte for byte the same, and the job
// succeeds. Two workers on one job both write whole outputs with renames, so
// whichever rename lands last leaves a complete image.
#ifndef SLUICE_WORKER_JOB_RUNNER_H_
#define SLUICE_WORKER_JOB_RUNNER_H_

#include <string>
#include <vector>

#include "worker/job.h"
#include "worker/metrics.h"
#include "worker/resizer.h"
#include "worker/store/bucket_store.h"

namespace sluice::worker {

struct JobReport {
  std::string input_size;  // "4352x2448", after orientation
  std::string outputs;     // "1000x563,200x113"
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  double resize_seconds = 0;
  bool already_done = false;  // the original was found at its done key
  std::string damage;         // ResizeResult::damage: rendered despite corrupt data
};

struct JobRunnerOptions {
  JobDefaults defaults;
  ResizeLimits limits;
  size_t max_input_bytes = 64ull << 20;
};

class JobRunner {
 public:
  JobRunner(const BucketStore* store, JobRunnerOptions options, WorkerMetrics* metrics)
      : store_(store), options_(std::move(options)), metrics_(metrics) {}

  Result<JobReport, JobError> Run(const Job& job, const StopCheck& stop) const;

  const JobRunnerOptions& options() const { return options_; }

 private:
  const BucketStore* store_;
  JobRunnerOptions options_;
  WorkerMetrics* metrics_;  // may be null
};

}  // namespace sluice::worker

#endif  // SLUICE_WORKER_JOB_RUNNER_H_
