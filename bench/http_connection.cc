#include "bench/http_connection.h"

#include <boost/asio/connect.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <utility>

namespace sluice::bench {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using boost::asio::ip::tcp;

// A receive of ten 256 KiB messages, XML-escaped, with room to spare.
constexpr uint64_t kMaxAnswerBytes = 64ull << 20;

Status Unavailable(const char* what, const boost::system::error_code& ec) {
  return Status(StatusCode::kUnavailable, std::string(what) + ": " + ec.message());
}

// Errors by which a server that closed a kept-alive connection shows it.
bool IsClosedByPeer(const boost::system::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
}

}  // namespace

HttpConnection::HttpConnection(const std::string& url) : socket_(io_) {
  constexpr std::string_view kScheme = "http://";
  std::string_view rest = url;
  if (!rest.starts_with(kScheme)) {
    url_status_ = Status(StatusCode::kInvalidParameterValue, "not an http:// URL: " + url);
    return;
  }
  rest.remove_prefix(kScheme.size());
  authority_ = std::string(rest.substr(0, rest.find('/')));
  const size_t colon = authority_.rfind(':');
  host_ = authority_.substr(0, colon);
  port_ = colon == std::string::npos ? "80" : authority_.substr(colon + 1);
  if (host_.empty() || port_.empty()) {
    url_status_ = Status(StatusCode::kInvalidParameterValue, "no HOST:PORT in " + url);
    return;
  }
  request_.method(bhttp::verb::post);
  request_.target("/");
  request_.version(11);
  request_.set(bhttp::field::host, authority_);
  request_.keep_alive(true);
}

Status HttpConnection::Post(std::string_view content_type, std::string_view amz_target,
                            std::string body, int* status, std::string* answer) {
  if (!url_status_.ok()) return url_status_;
  request_.set(bhttp::field::content_type, content_type);
  if (amz_target.empty()) {
    request_.erase("X-Amz-Target");
  } else {
    request_.set("X-Amz-Target", amz_target);
  }
  request_.body() = std::move(body);
  request_.prepare_payload();
  for (int attempt = 0;; ++attempt) {
    const bool reused = connected_;
    if (!connected_) {
      if (Status s = Connect(); !s.ok()) return s;
    }
    bool closed = false;
    Status s = Exchange(status, answer, &closed);
    if (s.ok()) return s;
    boost::system::error_code ignored;
    socket_.close(ignored);
    buffer_.clear();
    connected_ = false;
    // Only a connection the server closed while idle is retried: a request
    // it may have run is not sent twice.
    if (!closed || !reused || attempt > 0) return s;
  }
}

Status HttpConnection::Connect() {
  boost::system::error_code ec;
  tcp::resolver resolver(io_);
  const auto endpoints = resolver.resolve(host_, port_, ec);
  if (ec) return Unavailable("resolve", ec);
  asio::connect(socket_, endpoints, ec);
  if (ec) return Unavailable("connect", ec);
  // The request's header and body go out in one write; without this the
  // kernel could still hold back a small last segment for an ACK.
  socket_.set_option(tcp::no_delay(true), ec);
  connected_ = true;
  return Status::Ok();
}

Status HttpConnection::Exchange(int* status, std::string* answer, bool* closed) {
  boost::system::error_code ec;
  bhttp::write(socket_, request_, ec);
  if (ec) {
    *closed = IsClosedByPeer(ec);
    return Unavailable("write", ec);
  }
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(kMaxAnswerBytes);
  bhttp::read(socket_, buffer_, parser, ec);
  if (ec) {
    *closed = IsClosedByPeer(ec) && !parser.got_some();
    return Unavailable("read", ec);
  }
  bhttp::response<bhttp::string_body>& response = parser.get();
  *status = response.result_int();
  *answer = std::move(response.body());
  if (!response.keep_alive()) {
    socket_.close(ec);
    buffer_.clear();
    connected_ = false;
  }
  return Status::Ok();
}

}  // namespace sluice::bench
