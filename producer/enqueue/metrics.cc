#include "producer/enqueue/metrics.h"

namespace sluice {
namespace {

prometheus::MetricFamily Counter(const char* name, const char* help, uint64_t value) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = prometheus::MetricType::Counter;
  prometheus::ClientMetric metric;
  metric.counter.value = static_cast<double>(value);
  family.metric.push_back(metric);
  return family;
}

}  // namespace

std::vector<prometheus::MetricFamily> ProducerMetrics::Collect() const {
  const ProducerCounts counts = source_();
  return {
      Counter("sluice_producer_uploads_enqueued_total", "Uploads whose job the broker acknowledged",
              counts.enqueued),
      Counter("sluice_producer_uploads_skipped_total", "Uploads another producer claimed first",
              counts.skipped),
      Counter("sluice_producer_uploads_failed_total",
              "Uploads that could not be claimed or sent (they stay in pending/, or unjournaled in "
              "queued/)",
              counts.failed),
  };
}

}  // namespace sluice
