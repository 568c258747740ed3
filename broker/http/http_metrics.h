// HttpMetrics: the SQS HTTP front end's Prometheus metrics.
//   sluice_http_requests_total{protocol,action,code}   code: "OK" or the AWS error code
//   sluice_http_request_duration_seconds{protocol,action}
//   sluice_http_connections                             open connections
//   sluice_http_connections_refused_total               refused at the connection cap
//   sluice_http_bad_requests_total{reason}              requests that could not be read
//   sluice_s3_event_records_total{result}               records of pushed S3 events:
//                                                       enqueued or skipped
// Used from the server's thread only; each label set is looked up once.
#ifndef SLUICE_BROKER_HTTP_HTTP_METRICS_H_
#define SLUICE_BROKER_HTTP_HTTP_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>

namespace sluice::http {

class HttpMetrics {
 public:
  explicit HttpMetrics(const std::shared_ptr<prometheus::Registry>& registry);

  void CountRequest(std::string_view protocol, std::string_view action, std::string_view code,
                    double seconds);
  void ConnectionOpened() { connections_.Increment(); }
  void ConnectionClosed() { connections_.Decrement(); }
  void CountRefused() { refused_.Increment(); }
  // A request that never reached an action: unreadable HTTP, too large,
  // timed out.
  void CountBadRequest(std::string_view reason);
  void CountS3EventRecords(size_t enqueued, size_t skipped) {
    s3_records_enqueued_.Increment(static_cast<double>(enqueued));
    s3_records_skipped_.Increment(static_cast<double>(skipped));
  }

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& durations_;
  prometheus::Family<prometheus::Counter>& bad_requests_;
  prometheus::Gauge& connections_;
  prometheus::Counter& refused_;
  prometheus::Family<prometheus::Counter>& s3_records_;
  prometheus::Counter& s3_records_enqueued_;
  prometheus::Counter& s3_records_skipped_;
  std::map<std::tuple<std::string, std::string, std::string>, prometheus::Counter*, std::less<>>
      request_counters_;
  std::map<std::pair<std::string, std::string>, prometheus::Histogram*, std::less<>>
      duration_histograms_;
  std::map<std::string, prometheus::Counter*, std::less<>> bad_request_counters_;
};

}  // namespace sluice::http

#endif  // SLUICE_BROKER_HTTP_HTTP_METRICS_H_
