// WorkerMetrics: the worker's Prometheus metrics (docs/metrics.md lists them).
// Safe to update from every job thread: prometheus-cpp's counters, gauges and
// histograms are.
#ifndef SLUICE_WORKER_METRICS_H_
#define SLUICE_WORKER_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "worker/job_error.h"

namespace sluice::worker {

// How a job (a message) ended.
enum class JobResult {
  kOk,            // outputs written, message deleted
  kFailed,        // a transient failure: handed back to be retried later
  kInvalid,       // a permanent failure and no dead-letter queue: deleted
  kDeadLettered,  // a permanent failure: moved to the dead-letter queue
};
std::string_view JobResultName(JobResult result);

class WorkerMetrics {
 public:
  // `sizes` are the worker's default sizes: the values of the size label.
  WorkerMetrics(std::shared_ptr<prometheus::Registry> registry, int concurrency,
                std::vector<uint32_t> sizes);

  void JobDone(JobResult result, double seconds);
  void JobFailure(FailureReason reason);
  void Resized(double seconds);
  void QueueWait(double seconds);
  void BytesRead(uint64_t n) { read_bytes_.Increment(static_cast<double>(n)); }
  void BytesWritten(uint64_t n) { written_bytes_.Increment(static_cast<double>(n)); }
  void ImageWritten(uint32_t box);
  // An image rendered although its decoder warned of corrupt data.
  void DamagedImage() { damaged_images_.Increment(); }
  void BrokerError() { broker_errors_.Increment(); }
  // An S3 event's record that named no new object (s3::SkippedRecord).
  void S3RecordSkipped(const std::string& reason);
  prometheus::Gauge& in_flight() { return in_flight_; }

 private:
  const std::vector<uint32_t> sizes_;
  prometheus::Family<prometheus::Counter>& jobs_;
  prometheus::Family<prometheus::Counter>& failures_;
  prometheus::Family<prometheus::Counter>& images_;
  prometheus::Histogram& job_seconds_;
  prometheus::Histogram& resize_seconds_;
  prometheus::Histogram& queue_wait_seconds_;
  prometheus::Counter& read_bytes_;
  prometheus::Counter& written_bytes_;
  prometheus::Counter& damaged_images_;
  prometheus::Counter& broker_errors_;
  prometheus::Family<prometheus::Counter>& s3_records_skipped_;
  prometheus::Gauge& in_flight_;
};

}  // namespace sluice::worker

#endif  // SLUICE_WORKER_METRICS_H_
