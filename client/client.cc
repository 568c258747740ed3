#include "client/client.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <utility>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "common/wire_error.h"

namespace sluice {
namespace {

// How long a receive may wait at the broker when it sets no WaitTimeSeconds:
// the largest ReceiveMessageWaitTimeSeconds a queue can have.
constexpr Millis kMaxQueueWaitMs = 20'000;

using SteadyClock = std::chrono::steady_clock;

Millis MillisUntil(SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  return left.count() > 0 ? left.count() : 0;
}

// What reading the socket gave.
enum class Answer { kOurs, kNothing, kStale, kMalformed };

// Waits up to `timeout_ms` for a message on `socket` and reads it into
// `resp`. A Response is one frame; further frames are drained so that the
// next message starts clean. A blocking receive with a timeout costs fewer
// system calls than zmq_poll followed by a non-blocking receive.
Answer ReadAnswer(zmq::socket_t& socket, uint64_t id, Millis timeout_ms, pb::Response* resp) {
  zmq::message_t msg;
  socket.set(zmq::sockopt::rcvtimeo,
             static_cast<int>(std::min<Millis>(timeout_ms, std::numeric_limits<int>::max())));
  if (!socket.recv(msg)) return Answer::kNothing;
  if (msg.more()) {
    zmq::message_t rest;
    while (socket.recv(rest) && rest.more()) {
    }
    return Answer::kMalformed;
  }
  if (!resp->ParseFromArray(msg.data(), static_cast<int>(msg.size()))) return Answer::kMalformed;
  return resp->request_id() == id ? Answer::kOurs : Answer::kStale;
}

// How long the broker may hold a request before it answers: nothing but
// its work, except for a receive, which it holds for its long-poll wait.
template <typename Request>
Millis BrokerWaitMs(const Request&) {
  return 0;
}

Millis BrokerWaitMs(const pb::ReceiveMessageRequest& req) {
  return req.has_wait_time_seconds() ? std::max<Millis>(0, Millis{req.wait_time_seconds()} * 1000)
                                     : kMaxQueueWaitMs;
}

// Calls operation Op: wraps its request in the envelope and takes its answer
// out, checking that the broker answered the operation that was asked.
template <typename Op>
Result<typename Op::Response> CallOperation(Client& client, const typename Op::Request& req,
                                            Millis timeout_ms) {
  pb::Request envelope;
  *Op::MutableRequest(&envelope) = req;
  Result<pb::Response> r = client.Call(std::move(envelope), timeout_ms);
  if (!r.ok()) return r.status();
  if (r->op_case() != Op::kResponseCase) {
    return Status(StatusCode::kInternalError, "the broker's answer to " + std::string(Op::kName) +
                                                  " is not a " + std::string(Op::kName) +
                                                  " answer");
  }
  return std::move(*Op::MutableResponse(&*r));
}

constexpr int kHandshakeEvents = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                                 ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                 ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_DISCONNECTED;

// What a failed handshake means to the caller. `value` is the event's: the
// broker's ZAP status code, or ZeroMQ's protocol error.
Status HandshakeFailure(uint16_t event, uint32_t value, const std::string& endpoint,
                        const ClientOptions& options) {
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && value == 400) {
    return Status(StatusCode::kAccessDenied,
                  endpoint + " refused this client's CURVE key " +
                      (options.curve ? options.curve->public_key : std::string()) +
                      ": no principal of its principals file holds it");
  }
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
    return Status(StatusCode::kUnavailable,
                  endpoint +
                      " refused the connection: it is at its connection limit "
                      "(--max-connections)");
  }
  if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL &&
      value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH) {
    return Status(StatusCode::kUnavailable,
                  options.curve ? endpoint + " does not use CURVE, and this client does"
                                : endpoint +
                                      " requires CURVE: give the broker's public key and this "
                                      "client's secret key (--broker-public-key-file, "
                                      "--secret-key-file)");
  }
  // The broker drops a handshake it cannot decrypt without a word, so a
  // wrong public key shows up here, as a handshake that failed or ended.
  return Status(StatusCode::kUnavailable,
                "the handshake with " + endpoint + " failed (ZeroMQ event " +
                    std::to_string(event) + ", " + std::to_string(value) + ")" +
                    (options.curve ? ": is --broker-public-key this broker's public key?"
                                   : ": if the broker requires CURVE, give its public key and "
                                     "this client's secret key (--broker-public-key-file, "
                                     "--secret-key-file)"));
}

std::shared_ptr<zmq::context_t> SharedContext() {
  static std::mutex mu;
  static std::weak_ptr<zmq::context_t> shared;
  std::lock_guard lock(mu);
  std::shared_ptr<zmq::context_t> context = shared.lock();
  if (!context) {
    context = std::make_shared<zmq::context_t>();
    shared = context;
  }
  return context;
}

}  // namespace

std::string ResolveBrokerEndpoint(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("SLUICE_BROKER");
  if (env != nullptr && *env != '\0') return env;
  return kDefaultBrokerEndpoint;
}

Status EntryStatus(const pb::BatchResultError& entry) {
  return Status(FromWire(entry.code()), entry.detail());
}

Client::Client(std::string endpoint, ClientOptions options)
    : endpoint_(std::move(endpoint)), options_(options), context_(SharedContext()) {}

// Out of line: the zmq types are complete only here. The socket goes before
// the context (reverse member order), as ZeroMQ requires.
Client::~Client() = default;

void Client::Disconnect() {
  monitor_.reset();
  socket_.reset();
}

Status Client::Connect() {
  Disconnect();
  // Each socket's monitor needs an endpoint of its own in the context.
  static std::atomic<uint64_t> monitors{0};
  const std::string monitor_endpoint =
      "inproc://sluice-client-monitor-" + std::to_string(++monitors);
  try {
    auto socket = std::make_unique<zmq::socket_t>(*context_, zmq::socket_type::dealer);
    // Requests still queued when the client goes away are abandoned, not
    // kept: closing must never block on a broker that is down.
    socket->set(zmq::sockopt::linger, 0);
    if (options_.curve) {
      socket->set(zmq::sockopt::curve_serverkey, options_.curve->broker_public_key);
      socket->set(zmq::sockopt::curve_publickey, options_.curve->public_key);
      socket->set(zmq::sockopt::curve_secretkey, options_.curve->secret_key);
    }
    if (zmq_socket_monitor(socket->handle(), monitor_endpoint.c_str(), kHandshakeEvents) != 0) {
      throw zmq::error_t();
    }
    auto monitor = std::make_unique<zmq::socket_t>(*context_, zmq::socket_type::pair);
    monitor->set(zmq::sockopt::linger, 0);
    monitor->connect(monitor_endpoint);
    socket->connect(endpoint_);
    socket_ = std::move(socket);
    monitor_ = std::move(monitor);
  } catch (const zmq::error_t& e) {
    return Status(StatusCode::kInvalidParameterValue,
                  "invalid broker endpoint \"" + endpoint_ + "\": " + e.what());
  }
  return Status::Ok();
}

Result<bool> Client::AwaitHandshake(Millis timeout_ms) {
  std::array<zmq::pollitem_t, 2> items{
      {{socket_->handle(), 0, ZMQ_POLLIN, 0}, {monitor_->handle(), 0, ZMQ_POLLIN, 0}}};
  zmq::poll(items.data(), items.size(), std::chrono::milliseconds(timeout_ms));
  std::vector<zmq::message_t> event;
  while (zmq::recv_multipart(*monitor_, std::back_inserter(event), zmq::recv_flags::dontwait)) {
    if (event.empty() || event[0].size() < 6) {
      event.clear();
      continue;
    }
    uint16_t id = 0;
    uint32_t value = 0;
    std::memcpy(&id, event[0].data(), sizeof id);
    std::memcpy(&value, static_cast<const char*>(event[0].data()) + sizeof id, sizeof value);
    event.clear();
    if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
      // Watched no more: later reconnections are ZeroMQ's to retry quietly.
      zmq_socket_monitor(socket_->handle(), nullptr, 0);
      monitor_.reset();
      break;
    }
    return HandshakeFailure(id, value, endpoint_, options_);
  }
  return (items[0].revents & ZMQ_POLLIN) != 0;
}

Result<pb::Response> Client::Call(pb::Request req, Millis timeout_ms) {
  if (!socket_) {
    Status s = Connect();
    if (!s.ok()) return s;
  }
  const uint64_t id = next_request_id_++;
  req.set_request_id(id);
  // Serialized straight into the frame ZeroMQ sends, saving a copy of the
  // bodies a send carries. Protocol Buffers caches sizes as int.
  const size_t size = req.ByteSizeLong();
  if (size > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return Status(StatusCode::kInternalError, "the request is too large to serialize");
  }
  zmq::message_t frame(size);
  req.SerializeWithCachedSizesToArray(static_cast<uint8_t*>(frame.data()));
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
  try {
    // The socket was just connected or has answered every earlier call, so
    // its queue has room; dontwait makes sure a full queue cannot block us.
    if (!socket_->send(frame, zmq::send_flags::dontwait)) {
      Disconnect();
      return Status(StatusCode::kUnavailable, "cannot queue a request to " + endpoint_);
    }
    for (;;) {
      const Millis left = MillisUntil(deadline);
      if (left == 0) break;
      if (monitor_ != nullptr) {
        Result<bool> readable = AwaitHandshake(left);
        if (!readable.ok()) {
          Disconnect();
          return readable.status();
        }
        if (!*readable) continue;
      }
      pb::Response resp;
      switch (ReadAnswer(*socket_, id, left, &resp)) {
        case Answer::kNothing:
          continue;
        case Answer::kStale:
          // The late answer to an earlier call that gave up waiting.
          continue;
        case Answer::kMalformed:
          return Status(StatusCode::kInternalError, "malformed answer from " + endpoint_);
        case Answer::kOurs:
          if (resp.has_error() && resp.error().code() != pb::OK) {
            return Status(FromWire(resp.error().code()), resp.error().detail());
          }
          return resp;
      }
    }
  } catch (const zmq::error_t& e) {
    Disconnect();
    return Status(StatusCode::kUnavailable, "talking to " + endpoint_ + ": " + e.what());
  }
  // Lazy Pirate: the request may still be queued or in flight on this
  // socket, so it is dropped and the next call starts on a fresh one.
  Disconnect();
  return Status(StatusCode::kUnavailable,
                "no answer from " + endpoint_ + " within " + std::to_string(timeout_ms) + " ms");
}

#define SLUICE_CLIENT_METHOD(Name, field, cli_name)                                            \
  Result<pb::Name##Response> Client::Name(const pb::Name##Request& req) {                      \
    return CallOperation<ops::Name>(*this, req, options_.call_timeout_ms + BrokerWaitMs(req)); \
  }
SLUICE_OPERATIONS(SLUICE_CLIENT_METHOD)
#undef SLUICE_CLIENT_METHOD

}  // namespace sluice
