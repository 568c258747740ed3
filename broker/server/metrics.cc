#include "broker/server/metrics.h"

#include <set>

#include "common/wire_error.h"

namespace sluice {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

// Request latencies span sub-millisecond answers to 20 s long polls.
const prometheus::Histogram::BucketBoundaries kLatencyBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1,    0.25,    0.5,    1,     2.5,    5,     10,   20};

void CopyDelta(prometheus::Counter* counter, uint64_t now_value, uint64_t last_value) {
  if (now_value > last_value) counter->Increment(static_cast<double>(now_value - last_value));
}

}  // namespace

BrokerMetrics::BrokerMetrics(std::shared_ptr<prometheus::Registry> registry)
    : registry_(std::move(registry)),
      requests_(BuildCounter()
                    .Name("sluice_broker_requests_total")
                    .Help("Requests answered, by operation and result code")
                    .Register(*registry_)),
      request_seconds_(BuildHistogram()
                           .Name("sluice_broker_request_duration_seconds")
                           .Help("Time from a request's arrival to its answer, long polls included")
                           .Register(*registry_)),
      malformed_frames_(BuildCounter()
                            .Name("sluice_broker_malformed_frames_total")
                            .Help("Frames that were not a valid request")
                            .Register(*registry_)
                            .Add({})),
      access_denied_(BuildCounter()
                         .Name("sluice_access_denied_total")
                         .Help("Requests refused for want of a grant, by principal and action")
                         .Register(*registry_)),
      limit_refusals_(BuildCounter()
                          .Name("sluice_broker_limit_refusals_total")
                          .Help("Requests refused at one of the broker's caps, by cap")
                          .Register(*registry_)),
      zmq_connections_(BuildGauge()
                           .Name("sluice_broker_zmq_connections")
                           .Help("ZeroMQ connections open")
                           .Register(*registry_)
                           .Add({})),
      connections_refused_(BuildCounter()
                               .Name("sluice_broker_zmq_connections_refused_total")
                               .Help("ZeroMQ connections refused at their handshake, by reason")
                               .Register(*registry_)),
      answer_bytes_held_(BuildGauge()
                             .Name("sluice_broker_answer_bytes_held")
                             .Help("Bytes of answers queued for ZeroMQ clients, not yet written")
                             .Register(*registry_)
                             .Add({})),
      principals_reloads_(BuildCounter()
                              .Name("sluice_broker_principals_reloads_total")
                              .Help("Reloads of the principals file on SIGHUP, by result")
                              .Register(*registry_)),
      queues_(
          BuildGauge().Name("sluice_broker_queues").Help("Queues").Register(*registry_).Add({})),
      waiting_receives_(BuildGauge()
                            .Name("sluice_broker_waiting_receives")
                            .Help("Long-poll receives parked waiting for messages")
                            .Register(*registry_)
                            .Add({})),
      messages_(BuildGauge()
                    .Name("sluice_queue_messages")
                    .Help("Messages in a queue by state: visible, inflight or delayed")
                    .Register(*registry_)),
      oldest_age_(BuildGauge()
                      .Name("sluice_queue_oldest_message_age_seconds")
                      .Help("Age of the oldest message that is not delayed")
                      .Register(*registry_)),
      sent_(BuildCounter()
                .Name("sluice_queue_messages_sent_total")
                .Help("Messages enqueued, dead-letter and redrive moves included")
                .Register(*registry_)),
      received_(BuildCounter()
                    .Name("sluice_queue_messages_received_total")
                    .Help("Message deliveries; a message received twice counts twice")
                    .Register(*registry_)),
      deleted_(BuildCounter()
                   .Name("sluice_queue_messages_deleted_total")
                   .Help("Messages deleted by consumers")
                   .Register(*registry_)),
      dead_lettered_(BuildCounter()
                         .Name("sluice_queue_messages_dead_lettered_total")
                         .Help("Messages moved to the dead-letter queue")
                         .Register(*registry_)),
      expired_(BuildCounter()
                   .Name("sluice_queue_messages_expired_total")
                   .Help("Messages dropped at the end of the retention period")
                   .Register(*registry_)),
      purged_(BuildCounter()
                  .Name("sluice_queue_messages_purged_total")
                  .Help("Messages removed by PurgeQueue")
                  .Register(*registry_)) {}

void BrokerMetrics::CountRequest(std::string_view operation, pb::ErrorCode code, double seconds) {
  auto key = std::make_pair(std::string(operation), code);
  auto it = request_counters_.find(key);
  if (it == request_counters_.end()) {
    prometheus::Counter* c =
        &requests_.Add({{"op", key.first}, {"code", std::string(ErrorCodeName(FromWire(code)))}});
    it = request_counters_.emplace(std::move(key), c).first;
  }
  it->second->Increment();
  auto h = request_histograms_.find(operation);
  if (h == request_histograms_.end()) {
    prometheus::Histogram* hist =
        &request_seconds_.Add({{"op", std::string(operation)}}, kLatencyBuckets);
    h = request_histograms_.emplace(std::string(operation), hist).first;
  }
  h->second->Observe(seconds);
}

void BrokerMetrics::CountMalformedFrame() { malformed_frames_.Increment(); }

void BrokerMetrics::CountAccessDenied(std::string_view principal, std::string_view action) {
  access_denied_
      .Add({{"principal", principal.empty() ? "(unauthenticated)" : std::string(principal)},
            {"action", std::string(action)}})
      .Increment();
}

void BrokerMetrics::CountLimitRefusal(std::string_view limit) {
  limit_refusals_.Add({{"limit", std::string(limit)}}).Increment();
}

void BrokerMetrics::SetZmqConnections(int64_t open) {
  zmq_connections_.Set(static_cast<double>(open));
}

void BrokerMetrics::CountConnectionRefused(std::string_view reason) {
  connections_refused_.Add({{"reason", std::string(reason)}}).Increment();
}

void BrokerMetrics::SetAnswerBytesHeld(int64_t bytes) {
  answer_bytes_held_.Set(static_cast<double>(bytes));
}

void BrokerMetrics::CountPrincipalsReload(std::string_view result) {
  principals_reloads_.Add({{"result", std::string(result)}}).Increment();
}

BrokerMetrics::QueueSeries& BrokerMetrics::SeriesFor(const Queue& q) {
  QueueSeries& s = queue_series_[q.name()];
  if (s.visible != nullptr && s.incarnation == q.incarnation()) return s;
  // A queue re-created under the same name starts its counters again.
  if (s.visible != nullptr) RemoveSeries(s);
  const prometheus::Labels queue = {{"queue", q.name()}};
  auto with_state = [&](const char* state) {
    prometheus::Labels l = queue;
    l["state"] = state;
    return &messages_.Add(l);
  };
  s.incarnation = q.incarnation();
  s.visible = with_state("visible");
  s.in_flight = with_state("inflight");
  s.delayed = with_state("delayed");
  s.oldest_age = &oldest_age_.Add(queue);
  s.sent = &sent_.Add(queue);
  s.received = &received_.Add(queue);
  s.deleted = &deleted_.Add(queue);
  s.dead_lettered = &dead_lettered_.Add(queue);
  s.expired = &expired_.Add(queue);
  s.purged = &purged_.Add(queue);
  s.last = QueueCounters{};
  return s;
}

void BrokerMetrics::RemoveSeries(QueueSeries& s) {
  messages_.Remove(s.visible);
  messages_.Remove(s.in_flight);
  messages_.Remove(s.delayed);
  oldest_age_.Remove(s.oldest_age);
  sent_.Remove(s.sent);
  received_.Remove(s.received);
  deleted_.Remove(s.deleted);
  dead_lettered_.Remove(s.dead_lettered);
  expired_.Remove(s.expired);
  purged_.Remove(s.purged);
}

void BrokerMetrics::Update(const Engine& engine, Millis now, size_t waiting_receives) {
  std::set<std::string> live;
  engine.ForEachQueue([&](const Queue& q) {
    live.insert(q.name());
    QueueSeries& s = SeriesFor(q);
    s.visible->Set(static_cast<double>(q.visible()));
    s.in_flight->Set(static_cast<double>(q.in_flight()));
    s.delayed->Set(static_cast<double>(q.delayed()));
    s.oldest_age->Set(static_cast<double>(q.OldestMessageAge(now)) / 1000.0);
    const QueueCounters& c = q.counters();
    CopyDelta(s.sent, c.sent, s.last.sent);
    CopyDelta(s.received, c.received, s.last.received);
    CopyDelta(s.deleted, c.deleted, s.last.deleted);
    CopyDelta(s.dead_lettered, c.dead_lettered, s.last.dead_lettered);
    CopyDelta(s.expired, c.expired, s.last.expired);
    CopyDelta(s.purged, c.purged, s.last.purged);
    s.last = c;
  });
  for (auto it = queue_series_.begin(); it != queue_series_.end();) {
    if (live.contains(it->first)) {
      ++it;
    } else {
      RemoveSeries(it->second);
      it = queue_series_.erase(it);
    }
  }
  queues_.Set(static_cast<double>(live.size()));
  waiting_receives_.Set(static_cast<double>(waiting_receives));
}

}  // namespace sluice
