#include "worker/metrics.h"

#include <algorithm>
#include <string>

namespace sluice::worker {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

const prometheus::Histogram::BucketBoundaries kJobBuckets = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                             1,    2.5,   5,    10,  30,   60};
const prometheus::Histogram::BucketBoundaries kWaitBuckets = {0.01, 0.1, 0.5, 1,   5,   10,
                                                              30,   60,  300, 900, 3600};

}  // namespace

std::string_view JobResultName(JobResult result) {
  switch (result) {
    case JobResult::kOk:
      return "ok";
    case JobResult::kFailed:
      return "failed";
    case JobResult::kInvalid:
      return "invalid";
    case JobResult::kDeadLettered:
      return "dead_lettered";
  }
  return "unknown";
}

WorkerMetrics::WorkerMetrics(std::shared_ptr<prometheus::Registry> registry, int concurrency,
                             std::vector<uint32_t> sizes)
    : sizes_(std::move(sizes)),
      jobs_(BuildCounter()
                .Name("sluice_worker_jobs_total")
                .Help("Jobs (messages) finished, by result: ok, failed (retried later), invalid "
                      "(dropped, no dead-letter queue), dead_lettered")
                .Register(*registry)),
      failures_(BuildCounter()
                    .Name("sluice_worker_job_failures_total")
                    .Help("Jobs that failed, by reason")
                    .Register(*registry)),
      images_(BuildCounter()
                  .Name("sluice_worker_images_written_total")
                  .Help("Resized images written, by output size (box side in pixels)")
                  .Register(*registry)),
      job_seconds_(BuildHistogram()
                       .Name("sluice_worker_job_duration_seconds")
                       .Help("Time from receiving a job's message to finishing with it")
                       .Register(*registry)
                       .Add({}, kJobBuckets)),
      resize_seconds_(BuildHistogram()
                          .Name("sluice_worker_resize_duration_seconds")
                          .Help("Time to decode an image and encode all its outputs")
                          .Register(*registry)
                          .Add({}, kJobBuckets)),
      queue_wait_seconds_(BuildHistogram()
                              .Name("sluice_worker_queue_wait_seconds")
                              .Help("Time a job waited in the queue, from its SentTimestamp")
                              .Register(*registry)
                              .Add({}, kWaitBuckets)),
      read_bytes_(BuildCounter()
                      .Name("sluice_worker_read_bytes_total")
                      .Help("Bytes of originals read")
                      .Register(*registry)
                      .Add({})),
      written_bytes_(BuildCounter()
                         .Name("sluice_worker_written_bytes_total")
                         .Help("Bytes of resized images written")
                         .Register(*registry)
                         .Add({})),
      damaged_images_(BuildCounter()
                          .Name("sluice_worker_damaged_images_total")
                          .Help("Images resized although their data is corrupt or cut off (the "
                                "decoder warned); --strict-decode fails them instead")
                          .Register(*registry)
                          .Add({})),
      broker_errors_(BuildCounter()
                         .Name("sluice_worker_broker_errors_total")
                         .Help("Calls to the broker that failed (unreachable or refused)")
                         .Register(*registry)
                         .Add({})),
      s3_records_skipped_(BuildCounter()
                              .Name("sluice_worker_s3_records_skipped_total")
                              .Help("Records of S3 event notifications that named no new "
                                    "object, by reason")
                              .Register(*registry)),
      in_flight_(BuildGauge()
                     .Name("sluice_worker_jobs_in_flight")
                     .Help("Jobs being worked on now")
                     .Register(*registry)
                     .Add({})) {
  BuildGauge()
      .Name("sluice_worker_concurrency")
      .Help("Jobs this worker runs at once (--concurrency)")
      .Register(*registry)
      .Add({})
      .Set(concurrency);
  for (auto result :
       {JobResult::kOk, JobResult::kFailed, JobResult::kInvalid, JobResult::kDeadLettered}) {
    jobs_.Add({{"result", std::string(JobResultName(result))}});
  }
}

void WorkerMetrics::JobDone(JobResult result, double seconds) {
  jobs_.Add({{"result", std::string(JobResultName(result))}}).Increment();
  job_seconds_.Observe(seconds);
}

void WorkerMetrics::JobFailure(FailureReason reason) {
  failures_.Add({{"reason", std::string(ReasonName(reason))}}).Increment();
}

void WorkerMetrics::S3RecordSkipped(const std::string& reason) {
  s3_records_skipped_.Add({{"reason", reason}}).Increment();
}

void WorkerMetrics::Resized(double seconds) { resize_seconds_.Observe(seconds); }

void WorkerMetrics::QueueWait(double seconds) { queue_wait_seconds_.Observe(seconds); }

void WorkerMetrics::ImageWritten(uint32_t box) {
  // Jobs choose their sizes; only the worker's own get a series each, so that
  // jobs cannot make the label set grow without bound.
  const bool known = std::find(sizes_.begin(), sizes_.end(), box) != sizes_.end();
  images_.Add({{"size", known ? std::to_string(box) : "other"}}).Increment();
}

}  // namespace sluice::worker
