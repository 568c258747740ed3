// HttpListener: the SQS HTTP front end's connections (`--http-listen`).
//
// It accepts TCP connections on the server's io_context, so that reading,
// decoding, the engine's work and the answer all happen on the server's one
// thread: a call crosses no thread on its way. Each connection (HttpSession)
// reads one request at a time and keeps the connection alive between them;
// a long poll parks in the server's LongPolls and holds no thread.
//
// Bounds: at most `max_connections` open connections (the next are answered
// 503 and closed, and counted); a connection idle for kIdleTimeout is closed;
// a request must arrive whole within kRequestTimeout of its first byte, with
// headers of at most kMaxHeaderBytes and a body of at most kMaxBodyBytes
// (refused, by its Content-Length, before it is read).
#ifndef SLUICE_BROKER_HTTP_HTTP_LISTENER_H_
#define SLUICE_BROKER_HTTP_HTTP_LISTENER_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "broker/http/http_metrics.h"
#include "broker/server/peer.h"
#include "common/clock.h"
#include "common/credentials.h"
#include "common/status.h"
#include "sluice.pb.h"

namespace sluice::http {

inline constexpr std::chrono::seconds kIdleTimeout{60};
inline constexpr std::chrono::seconds kRequestTimeout{10};
inline constexpr std::chrono::seconds kWriteTimeout{30};
inline constexpr size_t kMaxHeaderBytes = 16 << 10;
// A 1 MiB message percent-encoded in a form is up to 3 MiB, plus the rest.
inline constexpr size_t kMaxBodyBytes = 4 << 20;

struct HttpOptions {
  // "http://HOST:PORT" of the queue URLs handed out; empty: from each
  // request's Host header.
  std::string public_url;
  std::string account_id = "000000000000";
  size_t max_connections = 4096;
  // When set, every request must carry a valid SigV4 signature by one of
  // these keys, and acts as the key's principal; otherwise signatures are
  // not checked.
  std::shared_ptr<const CredentialStore> credentials;
  // The secret a pusher of S3 event notifications must show at
  // /s3-events/<queue> (s3_events.h); empty: that endpoint is off.
  std::string s3_events_token;
};

// Runs a decoded call, as Server::Submit.
using SubmitFn = std::function<void(Peer peer, pb::Request req, Millis started)>;

// What every connection shares.
struct HttpContext {
  HttpOptions options;
  SubmitFn submit;
  HttpMetrics* metrics;
  const Clock* clock;
  size_t open_connections = 0;
  size_t writes_in_flight = 0;
  std::mt19937_64 request_ids;  // RequestId values: random, not secret
};

class HttpListener {
 public:
  HttpListener(boost::asio::io_context& io, HttpOptions options, SubmitFn submit,
               HttpMetrics* metrics, const Clock* clock);

  // Binds HOST:PORT ("127.0.0.1:9324", "0.0.0.0:9324", "[::1]:9324") and
  // starts accepting.
  Status Listen(const std::string& host_port);
  // The keys that requests are verified with from now on (after a reload
  // of the principals file). Call on the loop's thread.
  void SetCredentials(std::shared_ptr<const CredentialStore> credentials);
  // Stops accepting; open connections finish their calls.
  void Close();
  // Whether an answer is still being written.
  bool Writing() const { return context_->writes_in_flight > 0; }
  // The port bound (useful with port 0).
  unsigned short port() const;

 private:
  void Accept();
  // Answers 503 on `socket` and closes it.
  void Refuse(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<HttpContext> context_;
};

}  // namespace sluice::http

#endif  // SLUICE_BROKER_HTTP_HTTP_LISTENER_H_
