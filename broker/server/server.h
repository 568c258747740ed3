// Server: the broker's network edge. One thread runs an event loop (a
// Boost.Asio io_context) that serves a ZeroMQ ROUTER socket, the Engine, the
// long polls that wait on it and whatever other transport submits requests on
// the same io_context (the SQS HTTP front end, broker/http/). Requests of
// every transport meet one engine on one thread, with no hand-off between
// threads on the way.
//
// Each request is one frame holding a pb::Request; its answer is one frame
// holding a pb::Response with the same request id. A frame that is not a
// Request (or a message of more than one frame) is answered with
// MalformedRequest and counted; frames beyond kMaxFrameBytes are refused by
// ZeroMQ itself. Nothing a peer sends stops the loop.
//
// A receive that finds no message and may wait is parked until a message
// arrives for its queue, a timer of that queue runs out, or its wait ends;
// other clients are served meanwhile.
//
// Who may connect and what each may do: with a CURVE secret key the socket is
// a CURVE server whose clients the ZapHandler admits by their keys, and with
// principals every request is checked against its principal's grants
// (broker/auth/access.h) before the engine sees it. A refusal is AccessDenied
// and is counted and logged. The caps of ServerOptions refuse what is beyond
// them with a clear error to the client that hit them (docs/auth.md).
//
// Answers wait until the end of the loop's turn, when the Storage commits
// every change the turn made in one write: no answer leaves before what it
// acknowledges is durable, and concurrent requests share one fsync. If a
// commit fails the turn's requests are answered with InternalError and the
// server stops, so that a restart recovers from what is on disk.
#ifndef SLUICE_BROKER_SERVER_SERVER_H_
#define SLUICE_BROKER_SERVER_SERVER_H_

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "broker/auth/principals.h"
#include "broker/engine/engine.h"
#include "broker/server/answer_memory.h"
#include "broker/server/long_polls.h"
#include "broker/server/metrics.h"
#include "broker/server/peer.h"
#include "broker/server/zap_handler.h"
#include "broker/storage/storage.h"
#include "common/clock.h"
#include "common/status.h"

namespace sluice {

struct ServerOptions {
  // The broker's CURVE secret key (Z85); empty: clients connect unencrypted.
  std::string curve_secret_key;
  size_t max_connections = 4096;  // ZeroMQ connections
  // Bytes of answers waiting to be written to ZeroMQ clients (AnswerMemory).
  int64_t max_answer_bytes = int64_t{1} << 30;
};

class Server {
 public:
  // `storage` is the engine's journal, committed at the end of each turn.
  Server(Engine* engine, Storage* storage, const Clock* clock, BrokerMetrics* metrics,
         ServerOptions options = {});

  // Starts the connection handler and binds the ROUTER socket, e.g.
  // "tcp://127.0.0.1:7400".
  Status Bind(const std::string& endpoint);

  // From now on requests are checked against these principals' grants, and
  // CURVE keys against their keys; null: nothing is checked. Call on the
  // server's thread (or before Run).
  void SetPrincipals(std::shared_ptr<const auth::Principals> principals);

  // Serves until `stop` becomes true (set by a handler run on io(), such as
  // a signal set's), then answers every parked receive with no messages and
  // returns OK; or returns the storage failure that stopped it.
  Status Run(const std::atomic<bool>& stop);

  // The loop's io_context: other transports run their I/O on it, and so on
  // the server's thread.
  boost::asio::io_context& io() { return io_; }

  // Runs one request from `peer`, received at `started`, as a ZeroMQ one is
  // run: its answer reaches the peer when what it changed is durable, or
  // when its long poll ends. Call on the server's thread.
  void Submit(Peer peer, pb::Request req, Millis started);

 private:
  // Reads and answers every frame that is ready, without blocking.
  void DrainSocket();
  // Answers one client message; `multi_frame` when it had more than the
  // one payload frame a request may have.
  void HandleMessage(const std::string& peer, const zmq::message_t& payload, bool multi_frame);
  // The principal a ZeroMQ message comes from: the User-Id its connection
  // was admitted with, while its key is still that principal's; else "".
  std::string PrincipalOf(const zmq::message_t& payload) const;
  // Refuses `req` when its principal lacks a grant or it meets a cap,
  // answering it; returns whether it did.
  bool Refused(const Peer& peer, const pb::Request& req, Millis started);
  // Queues an answer for the end of the turn.
  void Reply(Peer peer, pb::Response resp);
  // Wait (on io_), once each, for the ZeroMQ socket and the syncer to signal.
  void WatchZmq();
  void WatchSync();
  // Whether the ZeroMQ socket has a message to read. Its descriptor only
  // signals changes, so this is asked after every turn.
  bool ZmqReadable();
  // Runs ready handlers, first waiting up to `timeout_ms` for one.
  void RunHandlers(long timeout_ms);
  // Commits the turn's changes, then sends its answers, or with --fsync
  // always queues them until an fsync covers them.
  Status EndTurn();
  // Sends the answers that the fsync which just ended covers.
  Status OnSyncDone();
  // Answers every held answer with InternalError; returns `failure`.
  Status FailPending(const Status& failure);
  void Send(const Peer& peer, const pb::Response& resp);
  // How long the loop may sleep: until the next wait ends, the next timer of
  // a queue someone waits on, or the next tick.
  long PollTimeoutMs(Millis now) const;

  Engine* engine_;
  Storage* storage_;
  const Clock* clock_;
  BrokerMetrics* metrics_;
  ServerOptions options_;
  std::shared_ptr<const auth::Principals> principals_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  zmq::context_t context_;
  zmq::socket_t socket_;
  ZapHandler zap_handler_;  // after the socket it serves; before the context ends
  AnswerMemory answer_memory_;
  // Watch the descriptors of the ZeroMQ socket and of the syncer's eventfd,
  // which they own (released, not closed, at the end).
  std::optional<boost::asio::posix::stream_descriptor> zmq_fd_;
  std::optional<boost::asio::posix::stream_descriptor> sync_fd_;
  bool zmq_watched_ = false;
  bool zmq_may_be_ready_ = true;  // until ZmqReadable() says otherwise
  bool sync_watched_ = false;
  bool sync_signalled_ = false;
  LongPolls long_polls_;
  std::vector<std::pair<Peer, pb::Response>> replies_;  // this turn's answers
  struct HeldAnswer {
    uint64_t generation;  // the storage commit that must be durable first
    Peer peer;
    pb::Response resp;
  };
  std::deque<HeldAnswer> awaiting_sync_;
  Millis next_tick_ = 0;
};

}  // namespace sluice

#endif  // SLUICE_BROKER_SERVER_SERVER_H_
