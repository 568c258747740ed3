// Metrics of a process's S3 calls, for the worker and the producer:
//   sluice_s3_requests_total{operation,code}        every attempt; code is the
//                                                   HTTP status, "error" when
//                                                   no answer came
//   sluice_s3_request_duration_seconds{operation}
// Its Observer() is what a Client (common/s3/client.h) reports attempts to.
#ifndef SLUICE_COMMON_S3_METRICS_H_
#define SLUICE_COMMON_S3_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>

#include "common/s3/client.h"

namespace sluice::s3 {

class Metrics {
 public:
  explicit Metrics(prometheus::Registry& registry);

  // Safe from several threads, as prometheus-cpp's families are.
  RequestObserver Observer();

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& seconds_;
};

}  // namespace sluice::s3

#endif  // SLUICE_COMMON_S3_METRICS_H_
