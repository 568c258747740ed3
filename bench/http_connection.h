// HttpConnection: one kept-alive HTTP/1.1 connection to one server, on which
// a thread POSTs one request at a time and waits for the answer (Boost.Beast,
// synchronous). The connection opens at the first Post and is reused; when the
// server has closed a reused connection (an idle timeout), Post reconnects and
// sends the request once more, as an SDK does.
//
// Not thread-safe: one per thread. Post fails with kUnavailable when the
// server cannot be reached or answers no valid HTTP, and with
// kInvalidParameterValue when the URL is not http://HOST:PORT; an answer with
// any HTTP status is a success of Post, the caller reads the status.
#ifndef SLUICE_BENCH_HTTP_CONNECTION_H_
#define SLUICE_BENCH_HTTP_CONNECTION_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sluice::bench {

class HttpConnection {
 public:
  // `url` is http://HOST:PORT, optionally followed by a path (ignored).
  explicit HttpConnection(const std::string& url);
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // "HOST:PORT", the Host header's value.
  const std::string& authority() const { return authority_; }

  // POSTs `body` to "/" with `content_type` and, when not empty, the
  // X-Amz-Target header. On success `*status` and `*answer` hold the HTTP
  // status and the answer's body.
  Status Post(std::string_view content_type, std::string_view amz_target, std::string body,
              int* status, std::string* answer);

 private:
  Status Connect();
  // One attempt on the open socket; sets *closed when the server had closed
  // it before answering anything.
  Status Exchange(int* status, std::string* answer, bool* closed);

  Status url_status_;  // why the URL did not parse
  std::string host_;
  std::string port_;
  std::string authority_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  boost::beast::http::request<boost::beast::http::string_body> request_;
  bool connected_ = false;
};

}  // namespace sluice::bench

#endif  // SLUICE_BENCH_HTTP_CONNECTION_H_
