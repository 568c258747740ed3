#include "broker/http/http_session.h"

#include <spdlog/spdlog.h>

#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <utility>
#include <vector>

#include "broker/http/form.h"
#include "broker/http/query_params.h"
#include "broker/http/response_encoder.h"
#include "broker/http/s3_events.h"
#include "common/sigv4.h"
#include "common/wire_error.h"

namespace sluice::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using json = nlohmann::json;

constexpr size_t kFirstReadBytes = 4096;
constexpr std::string_view kJsonContentType = "application/x-amz-json-1.0";
constexpr std::string_view kTargetPrefix = "AmazonSQS.";

std::string NewRequestId(std::mt19937_64& rng) {
  const uint64_t a = rng();
  const uint64_t b = rng();
  char id[37];
  std::snprintf(id, sizeof id, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return id;
}

// The queue of a request posted to a queue URL: the path's last segment.
std::string PathQueue(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  const size_t slash = path.find_last_of('/');
  if (slash == std::string_view::npos) return "";
  Result<std::string> name = PercentDecode(path.substr(slash + 1), false);
  return name.ok() ? *name : "";
}

// "http://HOST/ACCOUNT/": the start of every queue URL answered to `req`.
std::string UrlPrefix(const HttpOptions& options, std::string_view host) {
  std::string prefix = options.public_url;
  if (prefix.empty()) {
    prefix = "http://";
    prefix.append(host.empty() ? "localhost" : host);
  }
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  prefix.append("/").append(options.account_id).append("/");
  return prefix;
}

// The members of a query-protocol call: the URL's query string and, for a
// form post, the body.
Result<FormParams> QueryCallParams(std::string_view target, const std::string& body,
                                   std::string_view content_type) {
  FormParams params;
  if (size_t q = target.find('?'); q != std::string_view::npos) {
    Result<FormParams> from_url = ParseForm(target.substr(q + 1));
    if (!from_url.ok()) return from_url;
    params = std::move(*from_url);
  }
  if (!body.empty()) {
    if (!content_type.empty() && !content_type.starts_with("application/x-www-form-urlencoded")) {
      return Status(StatusCode::kMalformedRequest,
                    "the query protocol takes an application/x-www-form-urlencoded body, not " +
                        std::string(content_type));
    }
    Result<FormParams> from_body = ParseForm(body);
    if (!from_body.ok()) return from_body;
    params.insert(params.end(), std::make_move_iterator(from_body->begin()),
                  std::make_move_iterator(from_body->end()));
  }
  return params;
}

}  // namespace

// Waits for the answers to the batches of one pushed S3 event, and answers
// the push once all are in: 200 when every message was enqueued (durably),
// else an error that makes the pusher retry (its retry is deduplicated).
class HttpSession::S3EventCall : public ResponseSink {
 public:
  S3EventCall(std::shared_ptr<HttpSession> session, size_t batches, size_t skipped)
      : session_(std::move(session)), remaining_(batches), skipped_(skipped) {}

  void Answer(const pb::Response& resp) override {
    if (resp.has_error() && resp.error().code() != pb::OK) {
      if (!error_) error_ = Status(FromWire(resp.error().code()), resp.error().detail());
    } else {
      enqueued_ += static_cast<size_t>(resp.send_message_batch().successful_size());
      for (const pb::BatchResultError& failed : resp.send_message_batch().failed()) {
        if (!error_) error_ = Status(FromWire(failed.code()), failed.detail());
      }
    }
    if (--remaining_ > 0) return;
    session_->context_->metrics->CountS3EventRecords(enqueued_, skipped_);
    if (!error_) {
      return session_->RespondS3Events(200, "OK", {{"Enqueued", enqueued_}, {"Skipped", skipped_}});
    }
    // 404 and 403 are the operator's to fix (create the queue, grant the
    // s3-events principal); 503 asks the pusher to retry.
    const int status = error_->code() == StatusCode::kQueueDoesNotExist ? 404
                       : error_->code() == StatusCode::kAccessDenied    ? 403
                                                                        : 503;
    spdlog::warn("event=s3_event_failed enqueued={} error=\"{}\" action=pusher_retries", enqueued_,
                 error_->ToString());
    session_->RespondS3Events(status, ErrorCodeName(error_->code()),
                              {{"Code", std::string(ErrorCodeName(error_->code()))},
                               {"Message", error_->detail()},
                               {"Enqueued", enqueued_}});
  }

 private:
  std::shared_ptr<HttpSession> session_;
  size_t remaining_;
  size_t skipped_;
  size_t enqueued_ = 0;
  std::optional<Status> error_;
};

HttpSession::HttpSession(boost::asio::ip::tcp::socket socket, std::shared_ptr<HttpContext> context)
    : stream_(std::move(socket)), context_(std::move(context)) {
  ++context_->open_connections;
  context_->metrics->ConnectionOpened();
}

HttpSession::~HttpSession() {
  --context_->open_connections;
  context_->metrics->ConnectionClosed();
}

void HttpSession::WaitForRequest() {
  parser_.emplace();
  parser_->header_limit(kMaxHeaderBytes);
  parser_->body_limit(kMaxBodyBytes);
  parser_->eager(true);
  if (buffer_.size() > 0) return ParseBuffered();  // the client sent it already
  stream_.expires_after(kIdleTimeout);
  stream_.async_read_some(buffer_.prepare(kFirstReadBytes),
                          [self = shared_from_this()](const beast::error_code& ec, size_t n) {
                            if (ec) return self->OnReadFailed(ec);
                            self->buffer_.commit(n);
                            self->ParseBuffered();
                          });
}

void HttpSession::ParseBuffered() {
  // A small call usually arrives whole in one read: parsing what is here
  // answers it at once, without a round through the event loop per part.
  while (buffer_.size() > 0 && !parser_->is_done()) {
    beast::error_code ec;
    const size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == bhttp::error::need_more) break;
    if (ec) return OnReadFailed(ec);
  }
  if (parser_->is_done()) return Handle(parser_->release());
  if (parser_->is_header_done()) return ReadBody();
  ReadHeader();
}

void HttpSession::ReadHeader() {
  stream_.expires_after(kRequestTimeout);
  bhttp::async_read_header(stream_, buffer_, *parser_,
                           [self = shared_from_this()](const beast::error_code& ec, size_t) {
                             if (ec) return self->OnReadFailed(ec);
                             self->ReadBody();
                           });
}

void HttpSession::ReadBody() {
  stream_.expires_after(kRequestTimeout);
  // Clients that wait for leave to send a body (curl, for large ones) get it.
  const auto& header = parser_->get();
  if (beast::iequals(header[bhttp::field::expect], "100-continue")) {
    static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    boost::system::error_code ec;
    boost::asio::write(stream_.socket(), boost::asio::buffer(kContinue), ec);
    if (ec) return OnReadFailed(ec);
  }
  bhttp::async_read(stream_, buffer_, *parser_,
                    [self = shared_from_this()](const beast::error_code& ec, size_t) {
                      if (ec) return self->OnReadFailed(ec);
                      self->Handle(self->parser_->release());
                    });
}

void HttpSession::OnReadFailed(const beast::error_code& ec) {
  if (ec == bhttp::error::end_of_stream || ec == boost::asio::error::eof ||
      ec == boost::asio::error::connection_reset) {
    return;  // the client closed the connection: nothing to answer
  }
  if (ec == beast::error::timeout) {
    // Idle between requests is normal; in the middle of one it is not.
    if (buffer_.size() > 0) context_->metrics->CountBadRequest("timeout");
    return;
  }
  if (ec == bhttp::error::body_limit) {
    context_->metrics->CountBadRequest("too_large");
    return RespondUnreadable(
        413, "the request body is larger than " + std::to_string(kMaxBodyBytes) + " bytes");
  }
  if (ec == bhttp::error::header_limit) {
    context_->metrics->CountBadRequest("too_large");
    return RespondUnreadable(
        431, "the request headers are larger than " + std::to_string(kMaxHeaderBytes) + " bytes");
  }
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
    context_->metrics->CountBadRequest("malformed");
    spdlog::debug("event=http_bad_request error=\"{}\"", ec.message());
    return RespondUnreadable(400, "the request is not valid HTTP/1.1: " + ec.message());
  }
  // Other socket errors: the connection is gone.
}

void HttpSession::Handle(Request req) {
  started_ = context_->clock->Now();
  request_id_ = NewRequestId(context_->request_ids);
  keep_alive_ = req.keep_alive();
  url_prefix_ = UrlPrefix(context_->options, req[bhttp::field::host]);
  const std::string_view target = req.target();
  const std::string_view amz_target = req["X-Amz-Target"];
  const std::string_view content_type = req[bhttp::field::content_type];
  protocol_ = !amz_target.empty() || content_type.starts_with(kJsonContentType) ? Protocol::kJson
                                                                                : Protocol::kQuery;
  action_.clear();
  identity_.clear();
  // Pushers of S3 events cannot sign for SQS; they show a token instead.
  if (target.starts_with(kS3EventsPath)) return HandleS3Events(req);

  if (context_->options.credentials) {
    sigv4::HttpRequestView view;
    view.method = req.method_string();
    view.target = target;
    for (const auto& field : req) view.headers.emplace_back(field.name_string(), field.value());
    view.body = req.body();
    auto identity = sigv4::Verify(view, *context_->options.credentials, "sqs",
                                  std::chrono::system_clock::now());
    if (!identity.ok()) {
      action_ = "Unauthenticated";
      return RespondError(ApiError::Of(403, identity.error().code, identity.error().message));
    }
    identity_ = identity->name;
  }

  // The call's members as JSON text: the body itself, or the query
  // protocol's parameters rebuilt in its shape.
  std::string rebuilt_params;
  std::string_view params;
  if (protocol_ == Protocol::kJson) {
    if (!amz_target.starts_with(kTargetPrefix)) {
      action_ = "Unknown";
      return RespondError(amz_target.empty() ? MissingAction()
                                             : InvalidAction(std::string(amz_target)));
    }
    action_ = amz_target.substr(kTargetPrefix.size());
    params = req.body();
  } else {
    Result<FormParams> form = QueryCallParams(target, req.body(), content_type);
    if (!form.ok()) {
      action_ = "Unknown";
      return RespondError(MalformedBody(form.status().detail()));
    }
    Result<json> rebuilt = QueryParamsToJson(*form);
    if (!rebuilt.ok()) {
      action_ = "Unknown";
      return RespondError(MalformedBody(rebuilt.status().detail()));
    }
    auto action = rebuilt->find("Action");
    if (action == rebuilt->end() || !action->is_string()) {
      action_ = "Unknown";
      return RespondError(MissingAction());
    }
    action_ = action->get<std::string>();
    rebuilt_params = rebuilt->dump(-1, ' ', false, json::error_handler_t::replace);
    params = rebuilt_params;
  }

  Result<DecodedRequest, ApiError> decoded = DecodeRequest(action_, params, PathQueue(target));
  if (!decoded.ok()) return RespondError(decoded.error());
  call_ = std::move(*decoded);
  pb::Request request = std::move(call_.request);
  call_.request = WhatEncodingNeeds(request);
  Peer peer(shared_from_this());
  peer.principal = identity_;
  context_->submit(std::move(peer), std::move(request), started_);
}

void HttpSession::HandleS3Events(const Request& req) {
  protocol_ = Protocol::kS3Events;
  action_ = "S3Event";
  const std::string_view target = req.target();
  const std::string& token = context_->options.s3_events_token;
  if (token.empty()) {
    return RespondS3Events(404, "NotFound",
                           {{"Code", "NotFound"},
                            {"Message",
                             "S3 event notifications are off: start the broker with "
                             "--s3-events-token-file"}});
  }
  if (req.method() != bhttp::verb::post) {
    return RespondS3Events(405, "MethodNotAllowed",
                           {{"Code", "MethodNotAllowed"}, {"Message", "POST an S3 event"}});
  }
  if (!S3EventsTokenMatches(token, req[bhttp::field::authorization], target)) {
    return RespondS3Events(
        401, "Unauthorized",
        {{"Code", "Unauthorized"},
         {"Message", "no valid token: send Authorization: Bearer <token> or ?token=<token>"}});
  }
  const std::string queue = S3EventsQueue(target);
  if (queue.empty()) {
    return RespondS3Events(404, "NotFound",
                           {{"Code", "NotFound"}, {"Message", "POST to /s3-events/<queue>"}});
  }
  auto batches = S3EventToBatches(queue, req.body());
  if (!batches.ok()) {
    return RespondS3Events(400, "MalformedEvent",
                           {{"Code", "MalformedEvent"}, {"Message", batches.error()}});
  }
  if (batches->batches.empty()) {
    context_->metrics->CountS3EventRecords(0, batches->skipped);
    return RespondS3Events(200, "OK", {{"Enqueued", 0}, {"Skipped", batches->skipped}});
  }
  auto call =
      std::make_shared<S3EventCall>(shared_from_this(), batches->batches.size(), batches->skipped);
  for (pb::SendMessageBatchRequest& batch : batches->batches) {
    pb::Request request;
    *request.mutable_send_message_batch() = std::move(batch);
    Peer peer(call);
    peer.principal = std::string(kS3EventsPrincipal);
    context_->submit(std::move(peer), std::move(request), started_);
  }
}

void HttpSession::RespondS3Events(unsigned status, std::string_view code,
                                  const nlohmann::json& body) {
  context_->metrics->CountRequest("s3-events", action_, code,
                                  (context_->clock->Now() - started_) / 1000.0);
  Respond(status, "application/json", body.dump());
  Write();
}

void HttpSession::Answer(const pb::Response& resp) {
  if (resp.has_error() && resp.error().code() != pb::OK) {
    return RespondError(ToApiError({FromWire(resp.error().code()), resp.error().detail()}));
  }
  const SqsJson result = EncodeResult(call_, resp, url_prefix_);
  context_->metrics->CountRequest(protocol_ == Protocol::kJson ? "json" : "query", action_, "OK",
                                  (context_->clock->Now() - started_) / 1000.0);
  if (protocol_ == Protocol::kJson) {
    Respond(200, "application/x-amz-json-1.0", RenderJson(result));
  } else {
    Respond(200, "text/xml", RenderXml(action_, result, request_id_));
  }
  Write();
}

void HttpSession::RespondError(const ApiError& error) {
  context_->metrics->CountRequest(protocol_ == Protocol::kJson ? "json" : "query",
                                  action_.empty() ? "Unknown" : action_, error.query_code,
                                  (context_->clock->Now() - started_) / 1000.0);
  if (error.http_status >= 500) {
    spdlog::warn("event=http_error action={} code={} identity={} message=\"{}\"", action_,
                 error.query_code, identity_.empty() ? "-" : identity_, error.message);
  }
  if (protocol_ == Protocol::kJson) {
    Respond(error.http_status, "application/x-amz-json-1.0", RenderJsonError(error));
    response_.set("x-amzn-query-error", QueryErrorHeader(error));
  } else {
    Respond(error.http_status, "text/xml", RenderXmlError(error, request_id_));
  }
  Write();
}

void HttpSession::Respond(unsigned status, const char* content_type, std::string body) {
  response_ = {};
  response_.version(11);
  response_.result(status);
  response_.set(bhttp::field::server, "sluice");
  response_.set(bhttp::field::content_type, content_type);
  response_.set("x-amzn-RequestId", request_id_);
  response_.keep_alive(keep_alive_);
  response_.body() = std::move(body);
  response_.prepare_payload();
}

void HttpSession::Write() {
  stream_.expires_after(kWriteTimeout);
  ++context_->writes_in_flight;
  bhttp::async_write(
      stream_, response_, [self = shared_from_this()](const beast::error_code& ec, size_t) {
        --self->context_->writes_in_flight;
        if (ec) return;  // the client is gone
        if (!self->keep_alive_) {
          beast::error_code ignored;
          self->stream_.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
          return;
        }
        self->WaitForRequest();
      });
}

void HttpSession::RespondUnreadable(unsigned status, const std::string& message) {
  started_ = context_->clock->Now();
  request_id_ = NewRequestId(context_->request_ids);
  keep_alive_ = false;
  // Neither protocol can be told from what could not be read: the query
  // protocol's XML is what every client of the first SQS API reads.
  ApiError error =
      ApiError::Of(static_cast<int>(status),
                   status == 400 ? "MalformedRequest" : "RequestEntityTooLarge", message);
  Respond(status, "text/xml", RenderXmlError(error, request_id_));
  Write();
}

}  // namespace sluice::http
