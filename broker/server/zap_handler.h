// ZapHandler: admits ZeroMQ connections for the broker's ROUTER socket, as
// ZeroMQ's authentication protocol (ZAP, RFC 27) asks of a handler bound at
// inproc://zeromq.zap.01 in the socket's context. It runs on a thread of its
// own, as ZeroMQ calls it from its I/O thread during each handshake.
//
// With CURVE (the broker has a secret key), a client's public key must belong
// to a principal of the principals file: the handler names that principal as
// the connection's User-Id, and passes the key as the Curve-Key property, so
// that the server can check per message that the key is still the
// principal's after a reload. Without CURVE every client is admitted, with
// no User-Id.
//
// Either way a connection beyond `max_connections` is refused (status 500,
// which the client reports as the broker being at its connection limit).
// Connections are counted from the ROUTER's monitor events.
#ifndef SLUICE_BROKER_SERVER_ZAP_HANDLER_H_
#define SLUICE_BROKER_SERVER_ZAP_HANDLER_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <zmq.hpp>

#include "broker/auth/principals.h"
#include "broker/server/metrics.h"
#include "common/status.h"

namespace sluice {

// The property of each message that carries the connection's CURVE key.
inline constexpr const char* kCurveKeyProperty = "Curve-Key";

class ZapHandler {
 public:
  // `monitor_endpoint` is where the ROUTER's monitor publishes its
  // ZMQ_EVENT_ACCEPTED and ZMQ_EVENT_DISCONNECTED events.
  ZapHandler(zmq::context_t* context, std::string monitor_endpoint, size_t max_connections,
             BrokerMetrics* metrics);
  ~ZapHandler();

  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

  // Binds the handler's socket and starts its thread: before the ROUTER
  // binds, so that no handshake goes unchecked.
  Status Start();

  // The principals that CURVE keys are checked against from now on.
  void SetPrincipals(std::shared_ptr<const auth::Principals> principals);

 private:
  void Run();
  void CountConnections();
  void Answer(std::vector<zmq::message_t>& request);
  std::shared_ptr<const auth::Principals> principals();

  zmq::context_t* context_;
  std::string monitor_endpoint_;
  size_t max_connections_;
  BrokerMetrics* metrics_;
  std::unique_ptr<zmq::socket_t> zap_;
  std::unique_ptr<zmq::socket_t> monitor_;
  int64_t connections_ = 0;  // the handler thread's only
  std::mutex mu_;
  std::shared_ptr<const auth::Principals> principals_;  // guarded by mu_
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace sluice

#endif  // SLUICE_BROKER_SERVER_ZAP_HANDLER_H_
