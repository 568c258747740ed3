// Client: the C++ library through which the CLI, the worker, the producer and
// the tests talk to a broker. One call per SQS operation.
//
// A Client owns one ZeroMQ DEALER socket and is not thread-safe: use one per
// thread. Every call sends one Request with a fresh request id and waits for
// the Response with that id, discarding late answers to earlier calls. A call
// that gets no answer within its timeout returns UNAVAILABLE ("BrokerUnavailable")
// and the socket is replaced, so a restarted broker is reached on the next
// call (the Lazy Pirate pattern of the ZeroMQ guide). The socket is connected
// at the first call, so an endpoint ZeroMQ cannot parse is reported by that
// call as InvalidParameterValue. Calls never throw.
//
// With CurveCredentials the connection is encrypted and authenticated with
// CURVE. Until its first handshake succeeds, a client watches it, so that a
// broker's refusal is reported at once and plainly: an unknown key as
// AccessDenied, the broker's connection limit and a mismatch of keys or of
// encryption as Unavailable, each saying what to check.
#ifndef SLUICE_CLIENT_CLIENT_H_
#define SLUICE_CLIENT_CLIENT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "proto/operations.h"
#include "sluice.pb.h"

namespace zmq {
class context_t;
class socket_t;
}  // namespace zmq

namespace sluice {

// Where the broker is: `flag` when not empty, else $SLUICE_BROKER when set,
// else tcp://127.0.0.1:7400.
std::string ResolveBrokerEndpoint(const std::string& flag);
constexpr const char* kDefaultBrokerEndpoint = "tcp://127.0.0.1:7400";

// The failure one entry of a batch answer reports. Calls report theirs as
// their Result's status; with this, callers read no wire codes themselves.
Status EntryStatus(const pb::BatchResultError& entry);

// A client's CURVE keys, Z85: the broker's public key and the client's own
// pair (client/curve_flags.h reads them from flags, variables and files).
struct CurveCredentials {
  std::string broker_public_key;
  std::string public_key;
  std::string secret_key;
};

struct ClientOptions {
  // How long a call waits for its answer. A receive waits its long-poll time
  // (WaitTimeSeconds, or 20 s when it leaves the queue's default) on top.
  Millis call_timeout_ms = 10'000;
  std::optional<CurveCredentials> curve = std::nullopt;  // none: unencrypted
};

class Client {
 public:
  explicit Client(std::string endpoint, ClientOptions options = {});
  ~Client();

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const std::string& endpoint() const { return endpoint_; }

  // One method per operation of proto/operations.h, named as the operation:
  //   Result<pb::SendMessageResponse> SendMessage(const pb::SendMessageRequest& req);
#define SLUICE_CLIENT_METHOD(Name, field, cli_name) \
  Result<pb::Name##Response> Name(const pb::Name##Request& req);
  SLUICE_OPERATIONS(SLUICE_CLIENT_METHOD)
#undef SLUICE_CLIENT_METHOD

  // Sends `req` (its request_id is overwritten) and waits up to `timeout_ms`
  // for the answer. A Response carrying an error is returned as that error.
  Result<pb::Response> Call(pb::Request req, Millis timeout_ms);

 private:
  // Replaces the socket with a fresh one connected to endpoint_. Fails with
  // InvalidParameterValue when ZeroMQ cannot parse the endpoint.
  Status Connect();
  // Waits up to `timeout_ms` for the socket to be readable or the handshake
  // to end; true when the socket is readable. A failed handshake is an error.
  Result<bool> AwaitHandshake(Millis timeout_ms);
  void Disconnect();

  std::string endpoint_;
  ClientOptions options_;
  // One ZeroMQ context (and I/O thread) per process, as ZeroMQ advises: a
  // worker's or benchmark's many clients would otherwise each run an I/O
  // thread of their own. Shared so that it outlives every client.
  std::shared_ptr<zmq::context_t> context_;
  std::unique_ptr<zmq::socket_t> socket_;
  std::unique_ptr<zmq::socket_t> monitor_;  // until the first handshake succeeds
  uint64_t next_request_id_ = 1;
};

}  // namespace sluice

#endif  // SLUICE_CLIENT_CLIENT_H_
