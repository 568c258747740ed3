#include "broker/server/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <iterator>
#include <vector>
#include <zmq_addon.hpp>

#include "broker/auth/access.h"
#include "broker/engine/limits.h"
#include "broker/server/dispatch.h"
#include "common/wire_error.h"

namespace sluice {
namespace {

// The Engine ticks (timers of every queue, move tasks, metrics) this often;
// a move task runs in finer steps so its rate limit is smooth.
constexpr Millis kTickMs = 1000;
constexpr Millis kMoveTaskTickMs = 100;
// Frames read per loop turn before parked receives are served again, so a
// flood of sends cannot starve the consumers waiting for them.
constexpr int kMaxFramesPerTurn = 256;
// Entries of purged messages freed after each turn: a few milliseconds'
// work (Engine::FreeDroppedMessages).
constexpr size_t kDroppedFreedPerTurn = 20'000;
// Where the ROUTER's monitor tells the ZapHandler of connections.
constexpr const char* kMonitorEndpoint = "inproc://sluice-router-monitor";
// A ZAP domain makes ZeroMQ consult the handler for unencrypted (NULL)
// connections too, so that the connection cap holds for them.
constexpr const char* kZapDomain = "sluice";

// The queue a request names, or "" for those that name none.
std::string QueueOf(const pb::Request& req) {
  switch (req.op_case()) {
    case pb::Request::kSendMessage:
      return req.send_message().queue_name();
    case pb::Request::kSendMessageBatch:
      return req.send_message_batch().queue_name();
    case pb::Request::kChangeMessageVisibility:
      return req.change_message_visibility().queue_name();
    case pb::Request::kChangeMessageVisibilityBatch:
      return req.change_message_visibility_batch().queue_name();
    case pb::Request::kSetQueueAttributes:
      return req.set_queue_attributes().queue_name();
    case pb::Request::kDeleteQueue:
      return req.delete_queue().queue_name();
    case pb::Request::kPurgeQueue:
      return req.purge_queue().queue_name();
    default:
      return "";
  }
}

// Requests refused while the disk is below its reserve: those that bring new
// data. Receives, deletes and visibility changes write little, and deletes
// let compaction give space back (docs/storage.md, "Compaction").
bool AddsMessages(const pb::Request& req) {
  return req.op_case() == pb::Request::kSendMessage ||
         req.op_case() == pb::Request::kSendMessageBatch ||
         req.op_case() == pb::Request::kCreateQueue;
}

}  // namespace

Server::Server(Engine* engine, Storage* storage, const Clock* clock, BrokerMetrics* metrics,
               ServerOptions options)
    : engine_(engine),
      storage_(storage),
      clock_(clock),
      metrics_(metrics),
      options_(std::move(options)),
      work_(io_.get_executor()),
      context_(1),
      socket_(context_, zmq::socket_type::router),
      zap_handler_(&context_, kMonitorEndpoint, options_.max_connections, metrics),
      answer_memory_(options_.max_answer_bytes),
      long_polls_(engine) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::maxmsgsize, limits::kMaxFrameBytes);
  socket_.set(zmq::sockopt::zap_domain, kZapDomain);
  if (!options_.curve_secret_key.empty()) {
    socket_.set(zmq::sockopt::curve_server, true);
    socket_.set(zmq::sockopt::curve_secretkey, options_.curve_secret_key);
  }
}

Status Server::Bind(const std::string& endpoint) {
  try {
    if (zmq_socket_monitor(socket_.handle(), kMonitorEndpoint,
                           ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) != 0) {
      throw zmq::error_t();
    }
    if (Status s = zap_handler_.Start(); !s.ok()) return s;
    socket_.bind(endpoint);
  } catch (const zmq::error_t& e) {
    return {StatusCode::kIOError, "cannot listen on " + endpoint + ": " + e.what()};
  }
  return Status::Ok();
}

void Server::SetPrincipals(std::shared_ptr<const auth::Principals> principals) {
  principals_ = principals;
  zap_handler_.SetPrincipals(std::move(principals));
}

// Each watch fires once and is renewed by the loop, not by its handler: a
// wait on a descriptor that is still readable completes at once, so a
// handler that renewed itself would spin until the loop read the socket.
void Server::WatchZmq() {
  if (zmq_watched_) return;
  zmq_watched_ = true;
  zmq_fd_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      [this](const boost::system::error_code&) {
                        zmq_watched_ = false;
                        zmq_may_be_ready_ = true;
                      });
}

void Server::WatchSync() {
  if (sync_watched_) return;
  sync_watched_ = true;
  sync_fd_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                       [this](const boost::system::error_code& ec) {
                         sync_watched_ = false;
                         if (!ec) sync_signalled_ = true;
                       });
}

bool Server::ZmqReadable() { return (socket_.get(zmq::sockopt::events) & ZMQ_POLLIN) != 0; }

void Server::RunHandlers(long timeout_ms) {
  // A handler that throws (it should not) loses its own work only.
  try {
    if (timeout_ms > 0) io_.run_one_for(std::chrono::milliseconds(timeout_ms));
    io_.poll();
  } catch (const std::exception& e) {
    spdlog::error("event=handler_failed error=\"{}\"", e.what());
  }
}

Status Server::Run(const std::atomic<bool>& stop) {
  zmq_fd_.emplace(io_, socket_.get(zmq::sockopt::fd));
  sync_fd_.emplace(io_, storage_->sync_fd());
  Status result = Status::Ok();
  while (!stop.load()) {
    // The syncer's eventfd is read by OnSyncDone, and ZeroMQ resets its
    // descriptor when asked for its events: both are quiet before a watch.
    // ZeroMQ is asked only after it signalled or was used, so that a loop
    // that serves HTTP alone makes no system call for it.
    WatchSync();
    bool zmq_readable = false;
    if (zmq_may_be_ready_) {
      zmq_readable = ZmqReadable();
      if (!zmq_readable) {
        zmq_may_be_ready_ = false;
        WatchZmq();
      }
    }
    RunHandlers(zmq_readable ? 0 : PollTimeoutMs(clock_->Now()));
    if (sync_signalled_) {
      sync_signalled_ = false;
      if (Status s = OnSyncDone(); !s.ok()) {
        result = s;
        break;
      }
    }
    if (zmq_may_be_ready_) DrainSocket();

    Millis now = clock_->Now();
    if (now >= next_tick_) {
      engine_->Tick();
      // Free space changes slowly next to requests: once a tick is enough,
      // and keeps a syscall off every turn.
      storage_->RefreshDiskSpace();
      metrics_->Update(*engine_, now, long_polls_.size());
      answer_memory_.ForgetIdleClients();
      metrics_->SetAnswerBytesHeld(answer_memory_.total());
      next_tick_ = now + (engine_->HasRunningMoveTasks() ? kMoveTaskTickMs : kTickMs);
      // A tick may have made messages visible anywhere.
      long_polls_.TouchAll();
    }
    long_polls_.Serve(now, [this, now](const LongPolls::Waiter& w, pb::Response resp) {
      metrics_->CountRequest("ReceiveMessage", resp.has_error() ? resp.error().code() : pb::OK,
                             (now - w.started) / 1000.0);
      Reply(w.peer, std::move(resp));
    });
    if (Status s = EndTurn(); !s.ok()) {
      result = s;
      break;
    }
    // After the turn's answers, which need not wait for them.
    engine_->FreeDroppedMessages(kDroppedFreedPerTurn);
    storage_->CloseOneDeletedSegment();
  }
  if (result.ok()) {
    // Shutting down: parked receives learn at once that nothing came.
    long_polls_.AnswerAll(
        [this](const LongPolls::Waiter& w, pb::Response resp) { Reply(w.peer, std::move(resp)); });
    result = EndTurn();
  }
  // Answers still waiting for their fsync go out once it ends.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (result.ok() && !awaiting_sync_.empty() && std::chrono::steady_clock::now() < give_up) {
    WatchSync();
    RunHandlers(100);
    if (sync_signalled_) {
      sync_signalled_ = false;
      result = OnSyncDone();
    }
  }
  // The descriptors are ZeroMQ's and the storage's to close.
  zmq_fd_->release();
  sync_fd_->release();
  return result;
}

Status Server::EndTurn() {
  Status committed;
  if (storage_->HasPending()) committed = storage_->Commit();
  if (committed.ok()) committed = storage_->SyncIfDue(clock_->Now());
  if (!committed.ok()) return FailPending(committed);
  // With --fsync always, answers wait for an fsync that covers what their turn
  // (and every turn before it) wrote; meanwhile the loop goes on.
  if (storage_->SyncsEachCommit() && storage_->WrittenGeneration() > storage_->SyncedGeneration()) {
    const uint64_t generation = storage_->WrittenGeneration();
    for (auto& [peer, resp] : replies_) {
      awaiting_sync_.push_back({generation, std::move(peer), std::move(resp)});
    }
    replies_.clear();
    storage_->RequestSync();
    return Status::Ok();
  }
  for (const auto& [peer, resp] : replies_) Send(peer, resp);
  replies_.clear();
  storage_->MarkSynced();
  return Status::Ok();
}

Status Server::OnSyncDone() {
  if (Status s = storage_->FinishSync(); !s.ok()) return FailPending(s);
  const uint64_t synced = storage_->SyncedGeneration();
  while (!awaiting_sync_.empty() && awaiting_sync_.front().generation <= synced) {
    Send(awaiting_sync_.front().peer, awaiting_sync_.front().resp);
    awaiting_sync_.pop_front();
  }
  storage_->RequestSync();  // for what was written while this fsync ran
  storage_->MarkSynced();
  return Status::Ok();
}

Status Server::FailPending(const Status& failure) {
  spdlog::critical("event=storage_failed error=\"{}\" answered_with_errors={}", failure.detail(),
                   replies_.size() + awaiting_sync_.size());
  auto fail = [&](const Peer& peer, pb::Response& resp) {
    resp.clear_op();
    SetError(
        {StatusCode::kInternalError, "the broker could not store this change: " + failure.detail()},
        &resp);
    Send(peer, resp);
  };
  for (auto& a : awaiting_sync_) fail(a.peer, a.resp);
  for (auto& [peer, resp] : replies_) fail(peer, resp);
  awaiting_sync_.clear();
  replies_.clear();
  return failure;
}

void Server::Send(const Peer& peer, const pb::Response& resp) {
  if (peer.sink != nullptr) {
    peer.sink->Answer(resp);
    return;
  }
  zmq_may_be_ready_ = true;  // a send may take in what the descriptor signalled
  // Serialized straight into the frame ZeroMQ sends: a receive's answer
  // carries up to ten bodies, and this saves a copy of them.
  zmq::message_t bytes = answer_memory_.NewFrame(peer.zmq_identity, resp.ByteSizeLong());
  resp.SerializeWithCachedSizesToArray(static_cast<uint8_t*>(bytes.data()));
  // A peer that went away is silently skipped by the ROUTER; its answer is
  // lost but nothing else is affected.
  socket_.send(zmq::buffer(peer.zmq_identity),
               zmq::send_flags::sndmore | zmq::send_flags::dontwait);
  socket_.send(bytes, zmq::send_flags::dontwait);
}

void Server::DrainSocket() {
  for (int i = 0; i < kMaxFramesPerTurn; ++i) {
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(socket_, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
      return;
    }
    // A ROUTER prefixes the sender's identity; without a payload after it
    // there is nothing to answer.
    if (frames.size() < 2) continue;
    HandleMessage(frames[0].to_string(), frames[1], frames.size() > 2);
  }
}

void Server::HandleMessage(const std::string& peer, const zmq::message_t& payload,
                           bool multi_frame) {
  const Millis started = clock_->Now();
  pb::Request req;
  if (multi_frame || !req.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    metrics_->CountMalformedFrame();
    spdlog::warn("event=malformed_frame bytes={} multi_frame={}", payload.size(), multi_frame);
    pb::Response resp;
    SetError({StatusCode::kMalformedRequest,
              multi_frame ? "a request is a single frame"
                          : "the frame is not a serialized sluice.pb.Request"},
             &resp);
    Reply(peer, std::move(resp));
    return;
  }
  Peer from(peer);
  if (principals_ != nullptr) from.principal = PrincipalOf(payload);
  Submit(std::move(from), std::move(req), started);
}

std::string Server::PrincipalOf(const zmq::message_t& payload) const {
  // zmq_msg_gets takes a non-const message but only reads it.
  auto* msg = const_cast<zmq_msg_t*>(payload.handle());
  const char* user = zmq_msg_gets(msg, "User-Id");
  const char* key = zmq_msg_gets(msg, kCurveKeyProperty);
  if (user == nullptr || key == nullptr) return "";
  const auth::Principal* principal = principals_->FindByCurveKey(key);
  return principal != nullptr && principal->name == user ? principal->name : "";
}

bool Server::Refused(const Peer& peer, const pb::Request& req, Millis started) {
  Status refusal;
  if (principals_ != nullptr) {
    if (auto denial = auth::FindDenial(principals_->Find(peer.principal), req)) {
      metrics_->CountAccessDenied(peer.principal, denial->action);
      spdlog::warn("event=access_denied principal={} action={} queue={} transport={}",
                   peer.principal.empty() ? "-" : peer.principal, denial->action, denial->queue,
                   peer.sink != nullptr ? "http" : "zmq");
      refusal = auth::DeniedStatus(peer.principal, *denial);
    }
  }
  if (refusal.ok() && peer.sink == nullptr && req.op_case() == pb::Request::kReceiveMessage &&
      answer_memory_.OverCapFor(peer.zmq_identity)) {
    metrics_->CountLimitRefusal("answer_memory");
    refusal = Status(StatusCode::kOverLimit,
                     "the broker holds " + std::to_string(answer_memory_.total() >> 20) +
                         " MiB of answers that its clients have not read, over its cap of " +
                         std::to_string(answer_memory_.cap() >> 20) +
                         " MiB, and this client's earlier answers are still waiting: read them "
                         "before receiving more");
  }
  if (refusal.ok()) return false;
  pb::Response resp;
  resp.set_request_id(req.request_id());
  SetError(refusal, &resp);
  metrics_->CountRequest(OperationName(req.op_case()), resp.error().code(),
                         (clock_->Now() - started) / 1000.0);
  Reply(peer, std::move(resp));
  return true;
}

void Server::Submit(Peer peer, pb::Request req, Millis started) {
  if (Refused(peer, req, started)) return;
  pb::Response resp;
  if (storage_->DiskLow() && AddsMessages(req)) {
    resp.set_request_id(req.request_id());
    SetError({StatusCode::kStorageFull,
              "the broker's disk is nearly full; receives and deletes still work, sends resume "
              "when space is freed"},
             &resp);
  } else {
    Dispatch(*engine_, req, &resp);
    if (principals_ != nullptr && resp.has_list_queues()) {
      auth::FilterListQueues(*principals_->Find(peer.principal), resp.mutable_list_queues());
    }
    if (resp.has_error() && resp.error().code() == pb::OVER_LIMIT &&
        req.op_case() == pb::Request::kCreateQueue) {
      metrics_->CountLimitRefusal("queues");
    }
  }
  if (long_polls_.MaybePark(peer, &req, resp, started)) return;
  metrics_->CountRequest(OperationName(req.op_case()),
                         resp.has_error() ? resp.error().code() : pb::OK,
                         (clock_->Now() - started) / 1000.0);
  if (resp.has_error() && resp.error().code() == pb::INTERNAL_ERROR) {
    spdlog::error("event=internal_error op={} detail=\"{}\"", OperationName(req.op_case()),
                  resp.error().detail());
  }
  if (std::string queue = QueueOf(req); !queue.empty()) long_polls_.Touch(queue);
  if (req.op_case() == pb::Request::kCreateQueue || req.op_case() == pb::Request::kDeleteQueue) {
    spdlog::info("event={} queue={} result={}", OperationName(req.op_case()),
                 req.op_case() == pb::Request::kCreateQueue ? req.create_queue().queue_name()
                                                            : req.delete_queue().queue_name(),
                 ErrorCodeName(resp.has_error() ? FromWire(resp.error().code()) : StatusCode::kOk));
  }
  Reply(std::move(peer), std::move(resp));
}

void Server::Reply(Peer peer, pb::Response resp) {
  replies_.emplace_back(std::move(peer), std::move(resp));
}

long Server::PollTimeoutMs(Millis now) const {
  if (engine_->HasDroppedMessages()) return 0;
  if (storage_->Compacting()) return 0;
  Millis until = next_tick_;
  if (auto sync = storage_->NextSync()) until = std::min(until, *sync);
  if (auto wake = long_polls_.NextWakeup()) until = std::min(until, *wake);
  return static_cast<long>(std::max<Millis>(0, until - now));
}

}  // namespace sluice
