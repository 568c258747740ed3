// HttpSession: one HTTP connection of the SQS front end (HttpListener).
//
// It reads one request at a time: waits up to kIdleTimeout for its first
// byte, then up to kRequestTimeout for the rest. It checks the signature
// (when credentials are configured), detects the protocol (JSON when
// X-Amz-Target is present or the Content-Type is application/x-amz-json-1.0,
// query otherwise), decodes the call and submits it to the server. The
// server answers through Answer() once the call's changes are durable (or
// its long poll ends); the session encodes and writes the answer, then reads
// the next request. Errors that need no engine are answered at once.
// Unreadable requests are answered 400 (413 when too large) and the
// connection is closed, as what follows them cannot be trusted. Pushed S3
// event notifications (/s3-events/<queue>, s3_events.h) are answered 200
// once every job they make is durably enqueued.
#ifndef SLUICE_BROKER_HTTP_HTTP_SESSION_H_
#define SLUICE_BROKER_HTTP_HTTP_SESSION_H_

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "broker/http/api_error.h"
#include "broker/http/http_listener.h"
#include "broker/http/request_decoder.h"
#include "broker/server/peer.h"

namespace sluice::http {

class HttpSession : public ResponseSink, public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(boost::asio::ip::tcp::socket socket, std::shared_ptr<HttpContext> context);
  ~HttpSession() override;

  void Start() { WaitForRequest(); }
  void Answer(const pb::Response& resp) override;

 private:
  enum class Protocol { kQuery, kJson, kS3Events };
  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  void WaitForRequest();
  // Parses what the buffer holds; reads the rest of the call if need be.
  void ParseBuffered();
  void ReadHeader();
  void ReadBody();
  // Ends the connection after a read failed (or the peer closed it).
  void OnReadFailed(const boost::beast::error_code& ec);
  void Handle(Request req);
  // POST /s3-events/<queue> (s3_events.h).
  void HandleS3Events(const Request& req);
  // Answers an S3 event push: `status` with a JSON body.
  void RespondS3Events(unsigned status, std::string_view code, const nlohmann::json& body);
  void RespondError(const ApiError& error);
  void Respond(unsigned status, const char* content_type, std::string body);
  void Write();
  // 400 or 413 for a request that cannot be read, then close.
  void RespondUnreadable(unsigned status, const std::string& message);

  class S3EventCall;

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  boost::beast::http::response<boost::beast::http::string_body> response_;
  std::shared_ptr<HttpContext> context_;

  // The call being served.
  Protocol protocol_ = Protocol::kQuery;
  std::string action_;
  DecodedRequest call_;
  std::string url_prefix_;
  std::string request_id_;
  // The credential's name when signatures are checked, for the logs and for
  // the permissions to come (issue 18).
  std::string identity_;
  Millis started_ = 0;
  bool keep_alive_ = true;
};

}  // namespace sluice::http

#endif  // SLUICE_BROKER_HTTP_HTTP_SESSION_H_
