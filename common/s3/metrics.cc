#include "common/s3/metrics.h"

#include <string>

namespace sluice::s3 {

Metrics::Metrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("sluice_s3_requests_total")
                    .Help("S3 requests made (each attempt), by operation and HTTP status "
                          "(\"error\": no answer)")
                    .Register(registry)),
      seconds_(prometheus::BuildHistogram()
                   .Name("sluice_s3_request_duration_seconds")
                   .Help("Time an S3 request took, by operation")
                   .Register(registry)) {}

RequestObserver Metrics::Observer() {
  return [this](std::string_view operation, int status, double seconds) {
    const std::string name(operation);
    requests_.Add({{"operation", name}, {"code", status == 0 ? "error" : std::to_string(status)}})
        .Increment();
    seconds_
        .Add({{"operation", name}},
             prometheus::Histogram::BucketBoundaries{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                     0.25, 0.5, 1, 2.5, 5, 10})
        .Observe(seconds);
  };
}

}  // namespace sluice::s3
