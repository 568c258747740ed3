#include "broker/http/http_listener.h"

#include <spdlog/spdlog.h>

#include <boost/asio/write.hpp>
#include <charconv>
#include <random>
#include <utility>

#include "broker/http/http_session.h"
#include "broker/http/response_encoder.h"

namespace sluice::http {
namespace {

using boost::asio::ip::tcp;

// "HOST:PORT", HOST possibly "[v6]".
Result<tcp::endpoint> ParseHostPort(const std::string& host_port) {
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status(StatusCode::kInvalidArgument, "expected HOST:PORT, got '" + host_port + "'");
  }
  std::string host = host_port.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned port = 0;
  const std::string port_text = host_port.substr(colon + 1);
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return Status(StatusCode::kInvalidArgument, "expected a port number in '" + host_port + "'");
  }
  boost::system::error_code bad;
  const auto address = boost::asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, bad);
  if (bad) {
    return Status(StatusCode::kInvalidArgument,
                  "expected an IP address in '" + host_port + "': " + bad.message());
  }
  return tcp::endpoint(address, static_cast<unsigned short>(port));
}

}  // namespace

HttpListener::HttpListener(boost::asio::io_context& io, HttpOptions options, SubmitFn submit,
                           HttpMetrics* metrics, const Clock* clock)
    : io_(io),
      acceptor_(io),
      context_(std::make_shared<HttpContext>(
          HttpContext{.options = std::move(options),
                      .submit = std::move(submit),
                      .metrics = metrics,
                      .clock = clock,
                      .open_connections = 0,
                      .writes_in_flight = 0,
                      .request_ids = std::mt19937_64(std::random_device{}())})) {}

Status HttpListener::Listen(const std::string& host_port) {
  Result<tcp::endpoint> endpoint = ParseHostPort(host_port);
  if (!endpoint.ok()) return endpoint.status();
  boost::system::error_code ec;
  acceptor_.open(endpoint->protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(*endpoint, ec);
  if (!ec) acceptor_.listen(tcp::socket::max_listen_connections, ec);
  if (ec) {
    return {StatusCode::kIOError, "cannot listen for HTTP on " + host_port + ": " + ec.message()};
  }
  Accept();
  return Status::Ok();
}

unsigned short HttpListener::port() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec).port();
}

void HttpListener::SetCredentials(std::shared_ptr<const CredentialStore> credentials) {
  context_->options.credentials = std::move(credentials);
}

void HttpListener::Close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

void HttpListener::Accept() {
  acceptor_.async_accept(io_, [this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == boost::asio::error::operation_aborted) return;  // closed
    if (ec) {
      // Out of descriptors, most likely: the pending connection stays in
      // the backlog and is taken when one frees.
      spdlog::warn("event=http_accept_failed error=\"{}\"", ec.message());
    } else if (context_->open_connections >= context_->options.max_connections) {
      Refuse(std::move(socket));
    } else {
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<HttpSession>(std::move(socket), context_)->Start();
    }
    Accept();
  });
}

void HttpListener::Refuse(tcp::socket socket) {
  context_->metrics->CountRefused();
  static const std::string kBusy = [] {
    const std::string body = RenderXmlError(
        ApiError{.http_status = 503,
                 .query_code = "ServiceUnavailable",
                 .shape = "ServiceUnavailable",
                 .message = "the broker has as many HTTP connections as it takes; retry later",
                 .sender_fault = false},
        "");
    return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/xml\r\nConnection: "
           "close\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  // A few hundred bytes into an empty socket buffer: this does not block.
  boost::system::error_code ignored;
  boost::asio::write(socket, boost::asio::buffer(kBusy), ignored);
  socket.shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace sluice::http
