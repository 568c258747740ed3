// ProducerMetrics: what `sluice-producer enqueue --metrics-listen` serves to
// Prometheus. The counts are read at scrape time from the sources the
// producer already keeps (docs/metrics.md lists them), so they cannot drift.
#ifndef SLUICE_PRODUCER_ENQUEUE_METRICS_H_
#define SLUICE_PRODUCER_ENQUEUE_METRICS_H_

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <cstdint>
#include <functional>
#include <vector>

namespace sluice {

struct ProducerCounts {
  uint64_t enqueued = 0;  // uploads whose job the broker acknowledged
  uint64_t skipped = 0;   // uploads another producer claimed first
  uint64_t failed = 0;    // uploads that could not be claimed or sent
};

class ProducerMetrics : public prometheus::Collectable {
 public:
  explicit ProducerMetrics(std::function<ProducerCounts()> source) : source_(std::move(source)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::function<ProducerCounts()> source_;
};

}  // namespace sluice

#endif  // SLUICE_PRODUCER_ENQUEUE_METRICS_H_
