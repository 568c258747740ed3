#include "broker/server/zap_handler.h"

#include <spdlog/spdlog.h>

#include <array>
#include <cstring>
#include <iterator>
#include <zmq_addon.hpp>

namespace sluice {
namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
constexpr size_t kCurveKeyBytes = 32;
constexpr int kPollMs = 100;  // how soon the thread notices it should stop

std::string Z85(const zmq::message_t& key) {
  std::array<char, 41> text{};
  zmq_z85_encode(text.data(), static_cast<const uint8_t*>(key.data()), kCurveKeyBytes);
  return text.data();
}

// ZAP's metadata frame: each property as a one-byte name length, the name, a
// four-byte big-endian value length and the value (ZMTP's metadata format).
std::string Metadata(std::string_view name, std::string_view value) {
  std::string out;
  out.push_back(static_cast<char>(name.size()));
  out.append(name);
  const auto size = static_cast<uint32_t>(value.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(size >> shift));
  out.append(value);
  return out;
}

}  // namespace

ZapHandler::ZapHandler(zmq::context_t* context, std::string monitor_endpoint,
                       size_t max_connections, BrokerMetrics* metrics)
    : context_(context),
      monitor_endpoint_(std::move(monitor_endpoint)),
      max_connections_(max_connections),
      metrics_(metrics) {}

ZapHandler::~ZapHandler() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

Status ZapHandler::Start() {
  try {
    zap_ = std::make_unique<zmq::socket_t>(*context_, zmq::socket_type::rep);
    zap_->set(zmq::sockopt::linger, 0);
    zap_->bind(kZapEndpoint);
    monitor_ = std::make_unique<zmq::socket_t>(*context_, zmq::socket_type::pair);
    monitor_->set(zmq::sockopt::linger, 0);
    monitor_->connect(monitor_endpoint_);
  } catch (const zmq::error_t& e) {
    return {StatusCode::kIOError, std::string("cannot start the connection handler: ") + e.what()};
  }
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void ZapHandler::SetPrincipals(std::shared_ptr<const auth::Principals> principals) {
  std::lock_guard lock(mu_);
  principals_ = std::move(principals);
}

std::shared_ptr<const auth::Principals> ZapHandler::principals() {
  std::lock_guard lock(mu_);
  return principals_;
}

void ZapHandler::Run() {
  std::array<zmq::pollitem_t, 2> items{
      {{zap_->handle(), 0, ZMQ_POLLIN, 0}, {monitor_->handle(), 0, ZMQ_POLLIN, 0}}};
  while (!stop_.load()) {
    try {
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(kPollMs));
      // Connections are counted before a handshake is judged: a connection
      // is accepted (and its event queued) before its handshake begins.
      CountConnections();
      std::vector<zmq::message_t> request;
      if (zmq::recv_multipart(*zap_, std::back_inserter(request), zmq::recv_flags::dontwait)) {
        Answer(request);
      }
    } catch (const zmq::error_t& e) {
      if (e.num() == ETERM) return;
      spdlog::error("event=zap_failed error=\"{}\"", e.what());
    }
  }
}

void ZapHandler::CountConnections() {
  std::vector<zmq::message_t> event;
  while (zmq::recv_multipart(*monitor_, std::back_inserter(event), zmq::recv_flags::dontwait)) {
    if (!event.empty() && event[0].size() >= sizeof(uint16_t)) {
      uint16_t id = 0;
      std::memcpy(&id, event[0].data(), sizeof id);
      if (id == ZMQ_EVENT_ACCEPTED) ++connections_;
      if (id == ZMQ_EVENT_DISCONNECTED && connections_ > 0) --connections_;
    }
    event.clear();
  }
  metrics_->SetZmqConnections(connections_);
}

void ZapHandler::Answer(std::vector<zmq::message_t>& request) {
  // version, request id, domain, address, routing id, mechanism, credentials
  if (request.size() < 6) return;  // not ZAP: ZeroMQ itself never sends one
  const std::string request_id = request[1].to_string();
  const std::string address = request[3].to_string();
  const std::string mechanism = request[5].to_string();
  auto reply = [&](std::string_view code, std::string_view text, std::string_view user,
                   std::string_view metadata) {
    std::array<zmq::const_buffer, 6> frames{zmq::str_buffer("1.0"), zmq::buffer(request_id),
                                            zmq::buffer(code),      zmq::buffer(text),
                                            zmq::buffer(user),      zmq::buffer(metadata)};
    zmq::send_multipart(*zap_, frames);
  };

  if (static_cast<size_t>(connections_) > max_connections_) {
    metrics_->CountConnectionRefused("connection_limit");
    spdlog::warn("event=connection_refused reason=connection_limit address={} limit={}", address,
                 max_connections_);
    // 500, not 300: ZeroMQ sends a 300 to an unencrypted client as nothing
    // at all, and the client could not say why it waits.
    return reply("500", "the broker is at its connection limit", "", "");
  }
  if (mechanism != "CURVE") return reply("200", "OK", "", "");

  const std::string key =
      request.size() > 6 && request[6].size() == kCurveKeyBytes ? Z85(request[6]) : std::string();
  const std::shared_ptr<const auth::Principals> principals = this->principals();
  const auth::Principal* principal =
      principals == nullptr || key.empty() ? nullptr : principals->FindByCurveKey(key);
  if (principal == nullptr) {
    metrics_->CountConnectionRefused("unknown_key");
    spdlog::warn("event=connection_refused reason=unknown_key address={} key={}", address, key);
    return reply("400", "no principal holds this key", "", "");
  }
  reply("200", "OK", principal->name, Metadata(kCurveKeyProperty, key));
}

}  // namespace sluice
