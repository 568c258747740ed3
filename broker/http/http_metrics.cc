#include "broker/http/http_metrics.h"

namespace sluice::http {
namespace {

// From 100 µs (an in-memory call) to 25 s (a long poll of 20 s, and more).
prometheus::Histogram::BucketBoundaries DurationBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
          0.1,    0.25,    0.5,    1,     2.5,    5,     10,   20,    25};
}

}  // namespace

HttpMetrics::HttpMetrics(const std::shared_ptr<prometheus::Registry>& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("sluice_http_requests_total")
                    .Help("SQS API calls over HTTP, by protocol, action and answer")
                    .Register(*registry)),
      durations_(prometheus::BuildHistogram()
                     .Name("sluice_http_request_duration_seconds")
                     .Help("From a call's arrival to its answer's hand-over, long polls included")
                     .Register(*registry)),
      bad_requests_(prometheus::BuildCounter()
                        .Name("sluice_http_bad_requests_total")
                        .Help("HTTP requests refused before any action: unreadable, too large, "
                              "too slow")
                        .Register(*registry)),
      connections_(prometheus::BuildGauge()
                       .Name("sluice_http_connections")
                       .Help("Open HTTP connections")
                       .Register(*registry)
                       .Add({})),
      refused_(prometheus::BuildCounter()
                   .Name("sluice_http_connections_refused_total")
                   .Help("HTTP connections refused at the connection cap")
                   .Register(*registry)
                   .Add({})),
      s3_records_(prometheus::BuildCounter()
                      .Name("sluice_s3_event_records_total")
                      .Help("Records of S3 event notifications pushed to /s3-events/: enqueued "
                            "(ObjectCreated, once durable) or skipped (other kinds)")
                      .Register(*registry)),
      s3_records_enqueued_(s3_records_.Add({{"result", "enqueued"}})),
      s3_records_skipped_(s3_records_.Add({{"result", "skipped"}})) {}

void HttpMetrics::CountRequest(std::string_view protocol, std::string_view action,
                               std::string_view code, double seconds) {
  auto key = std::make_tuple(std::string(protocol), std::string(action), std::string(code));
  auto counter = request_counters_.find(key);
  if (counter == request_counters_.end()) {
    prometheus::Counter* c = &requests_.Add(
        {{"protocol", std::get<0>(key)}, {"action", std::get<1>(key)}, {"code", std::get<2>(key)}});
    counter = request_counters_.emplace(std::move(key), c).first;
  }
  counter->second->Increment();
  auto hkey = std::make_pair(std::string(protocol), std::string(action));
  auto histogram = duration_histograms_.find(hkey);
  if (histogram == duration_histograms_.end()) {
    prometheus::Histogram* h =
        &durations_.Add({{"protocol", hkey.first}, {"action", hkey.second}}, DurationBuckets());
    histogram = duration_histograms_.emplace(std::move(hkey), h).first;
  }
  histogram->second->Observe(seconds);
}

void HttpMetrics::CountBadRequest(std::string_view reason) {
  auto it = bad_request_counters_.find(reason);
  if (it == bad_request_counters_.end()) {
    prometheus::Counter* c = &bad_requests_.Add({{"reason", std::string(reason)}});
    it = bad_request_counters_.emplace(std::string(reason), c).first;
  }
  it->second->Increment();
}

}  // namespace sluice::http
