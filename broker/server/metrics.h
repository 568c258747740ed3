// BrokerMetrics: the broker's Prometheus metrics (docs/metrics.md lists them).
//
// Request counters are updated as requests are answered; the per-queue
// gauges and counters are copied from the Engine on each tick, so the engine
// stays free of metrics code. Called from the server's thread, except the
// connection metrics, which the ZAP handler's thread sets (prometheus-cpp's
// families and counters are thread-safe); the exposer's threads read the
// registry.
#ifndef SLUICE_BROKER_SERVER_METRICS_H_
#define SLUICE_BROKER_SERVER_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "broker/engine/engine.h"
#include "common/clock.h"
#include "sluice.pb.h"

namespace sluice {

class BrokerMetrics {
 public:
  explicit BrokerMetrics(std::shared_ptr<prometheus::Registry> registry);

  void CountRequest(std::string_view operation, pb::ErrorCode code, double seconds);
  void CountMalformedFrame();
  // A request refused for want of a grant.
  void CountAccessDenied(std::string_view principal, std::string_view action);
  // A request refused at one of the broker's caps ("queues", "answer_memory").
  void CountLimitRefusal(std::string_view limit);
  // ZeroMQ connections open, and those refused ("connection_limit",
  // "unknown_key"); from the ZAP handler's thread.
  void SetZmqConnections(int64_t open);
  void CountConnectionRefused(std::string_view reason);
  // Bytes of answers handed to ZeroMQ that it has not yet written out.
  void SetAnswerBytesHeld(int64_t bytes);
  // A reload of the principals file on SIGHUP: "ok" or "failed".
  void CountPrincipalsReload(std::string_view result);
  // Copies every queue's counts into the registry and drops the metrics of
  // queues that no longer exist.
  void Update(const Engine& engine, Millis now, size_t waiting_receives);

 private:
  struct QueueSeries {
    uint64_t incarnation = 0;
    prometheus::Gauge* visible = nullptr;
    prometheus::Gauge* in_flight = nullptr;
    prometheus::Gauge* delayed = nullptr;
    prometheus::Gauge* oldest_age = nullptr;
    prometheus::Counter* sent = nullptr;
    prometheus::Counter* received = nullptr;
    prometheus::Counter* deleted = nullptr;
    prometheus::Counter* dead_lettered = nullptr;
    prometheus::Counter* expired = nullptr;
    prometheus::Counter* purged = nullptr;
    QueueCounters last;  // the engine's counters when last copied
  };

  QueueSeries& SeriesFor(const Queue& q);
  void RemoveSeries(QueueSeries& s);

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& request_seconds_;
  prometheus::Counter& malformed_frames_;
  prometheus::Family<prometheus::Counter>& access_denied_;
  prometheus::Family<prometheus::Counter>& limit_refusals_;
  prometheus::Gauge& zmq_connections_;
  prometheus::Family<prometheus::Counter>& connections_refused_;
  prometheus::Gauge& answer_bytes_held_;
  prometheus::Family<prometheus::Counter>& principals_reloads_;
  prometheus::Gauge& queues_;
  prometheus::Gauge& waiting_receives_;
  prometheus::Family<prometheus::Gauge>& messages_;
  prometheus::Family<prometheus::Gauge>& oldest_age_;
  prometheus::Family<prometheus::Counter>& sent_;
  prometheus::Family<prometheus::Counter>& received_;
  prometheus::Family<prometheus::Counter>& deleted_;
  prometheus::Family<prometheus::Counter>& dead_lettered_;
  prometheus::Family<prometheus::Counter>& expired_;
  prometheus::Family<prometheus::Counter>& purged_;

  std::map<std::pair<std::string, pb::ErrorCode>, prometheus::Counter*> request_counters_;
  std::map<std::string, prometheus::Histogram*, std::less<>> request_histograms_;
  std::map<std::string, QueueSeries> queue_series_;
};

}  // namespace sluice

#endif  // SLUICE_BROKER_SERVER_METRICS_H_
