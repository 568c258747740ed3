// Peer: who waits for an answer. A ZeroMQ client is named by its ROUTER
// identity, and the server sends the answer on its socket; any other
// transport (the SQS HTTP front end) gives a ResponseSink, which encodes the
// answer for its connection. Either way the answer is handed over only when
// what it acknowledges is durable.
#ifndef SLUICE_BROKER_SERVER_PEER_H_
#define SLUICE_BROKER_SERVER_PEER_H_

#include <memory>
#include <string>
#include <utility>

#include "sluice.pb.h"

namespace sluice {

class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  // Called once, on the server's thread, with the answer to the request
  // submitted with this sink.
  virtual void Answer(const pb::Response& resp) = 0;
};

struct Peer {
  Peer() = default;
  // A ZeroMQ client.
  Peer(std::string identity) : zmq_identity(std::move(identity)) {}  // NOLINT: implicit on purpose
  explicit Peer(std::shared_ptr<ResponseSink> s) : sink(std::move(s)) {}

  std::string zmq_identity;
  std::shared_ptr<ResponseSink> sink;  // set for every transport but ZeroMQ
  // The principal the transport authenticated (a CURVE key's or a SigV4
  // access key's); empty when none was.
  std::string principal;
};

}  // namespace sluice

#endif  // SLUICE_BROKER_SERVER_PEER_H_
