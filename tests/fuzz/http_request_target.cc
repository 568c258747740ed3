// Fuzz target: the HTTP front end's request parsing. The input is what a
// client writes on a connection: one or more HTTP/1.1 requests back to back
// (keep-alive), parsed by Boost.Beast with the session's limits, then taken
// apart as HttpSession::Handle does: the S3 events endpoint and its token,
// the SigV4 signature (checked against a fixed credential at a fixed time,
// so that a seed signed then verifies), the protocol, the query string and
// form body rebuilt as JSON, and the call decoded, answered and encoded
// (sqs_call.h).
//
// Handle's helpers for the query protocol's members and the queue of the
// path are private to http_session.cc, so they are mirrored here; they would
// better be in sluice_sqs_api, for this target to call them.
#include <boost/beast/http.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "broker/http/form.h"
#include "broker/http/http_listener.h"
#include "broker/http/query_params.h"
#include "broker/http/s3_events.h"
#include "common/credentials.h"
#include "common/sigv4.h"
#include "tests/fuzz/fuzz_broker.h"
#include "tests/fuzz/sqs_call.h"
#include "tests/fuzz/targets.h"

namespace sluice::fuzz {
namespace {

namespace bhttp = boost::beast::http;
using Request = bhttp::request<bhttp::string_body>;
using json = nlohmann::json;

// More requests than this on one input add nothing but time.
constexpr int kMaxRequests = 8;
constexpr std::string_view kJsonContentType = "application/x-amz-json-1.0";
constexpr std::string_view kTargetPrefix = "AmazonSQS.";

// The time the signed seeds were made for (X-Amz-Date 20240101T000000Z).
constexpr std::chrono::sys_seconds kNow{std::chrono::seconds{1704067200}};

const CredentialStore& Credentials() {
  static const CredentialStore store = [] {
    auto parsed = CredentialStore::Parse(
        "[alice]\naws_access_key_id = AKIDFUZZ\naws_secret_access_key = fuzz-secret\n", "fuzz");
    Check(parsed.ok(), "the fuzz credentials parse");
    return std::move(*parsed);
  }();
  return store;
}

// As HttpSession's PathQueue: the last segment of the path, decoded.
std::string PathQueue(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  const size_t slash = path.find_last_of('/');
  if (slash == std::string_view::npos) return "";
  Result<std::string> name = http::PercentDecode(path.substr(slash + 1), false);
  return name.ok() ? *name : "";
}

// As HttpSession's QueryCallParams: the query string's pairs, then a form
// body's.
Result<http::FormParams> QueryCallParams(std::string_view target, const std::string& body,
                                         std::string_view content_type) {
  http::FormParams params;
  if (size_t q = target.find('?'); q != std::string_view::npos) {
    Result<http::FormParams> from_url = http::ParseForm(target.substr(q + 1));
    if (!from_url.ok()) return from_url;
    params = std::move(*from_url);
  }
  if (!body.empty()) {
    if (!content_type.empty() && !content_type.starts_with("application/x-www-form-urlencoded")) {
      return Status(StatusCode::kMalformedRequest, "not a form");
    }
    Result<http::FormParams> from_body = http::ParseForm(body);
    if (!from_body.ok()) return from_body;
    params.insert(params.end(), std::make_move_iterator(from_body->begin()),
                  std::make_move_iterator(from_body->end()));
  }
  return params;
}

void HandleS3Events(FuzzBroker& broker, const Request& req) {
  const std::string_view target = req.target();
  (void)http::S3EventsTokenMatches("fuzz-token", req[bhttp::field::authorization], target);
  const std::string queue = http::S3EventsQueue(target);
  if (queue.empty()) return;
  auto batches = http::S3EventToBatches(queue, req.body());
  if (!batches.ok()) return;
  for (pb::SendMessageBatchRequest& batch : batches->batches) {
    Check(batch.entries_size() > 0 && batch.entries_size() <= 10, "a batch holds 1-10 messages");
    pb::Request request;
    *request.mutable_send_message_batch() = std::move(batch);
    broker.Call(request);
  }
}

void Handle(FuzzBroker& broker, const Request& req) {
  const std::string_view target = req.target();
  if (target.starts_with(http::kS3EventsPath)) return HandleS3Events(broker, req);

  sigv4::HttpRequestView view;
  view.method = req.method_string();
  view.target = target;
  for (const auto& field : req) view.headers.emplace_back(field.name_string(), field.value());
  view.body = req.body();
  (void)sigv4::Verify(view, Credentials(), "sqs", kNow);

  const std::string_view host = req[bhttp::field::host];
  const std::string url_prefix = "http://" + std::string(host) + "/000000000000/";
  const std::string_view amz_target = req["X-Amz-Target"];
  const std::string_view content_type = req[bhttp::field::content_type];
  if (!amz_target.empty() || content_type.starts_with(kJsonContentType)) {
    if (!amz_target.starts_with(kTargetPrefix)) return;
    return SqsCall(broker, amz_target.substr(kTargetPrefix.size()), req.body(), PathQueue(target),
                   url_prefix);
  }
  Result<http::FormParams> form = QueryCallParams(target, req.body(), content_type);
  if (!form.ok()) return;
  Result<json> rebuilt = http::QueryParamsToJson(*form);
  if (!rebuilt.ok()) return;
  auto action = rebuilt->find("Action");
  if (action == rebuilt->end() || !action->is_string()) return;
  const std::string params = rebuilt->dump(-1, ' ', false, json::error_handler_t::replace);
  SqsCall(broker, action->get<std::string>(), params, PathQueue(target), url_prefix);
}

}  // namespace

int FuzzHttpRequest(const uint8_t* data, size_t size) {
  static const bool quiet = (QuietLogs(), true);
  (void)quiet;
  FuzzBroker broker;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  for (int i = 0; i < kMaxRequests && !rest.empty(); ++i) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(http::kMaxHeaderBytes);
    parser.body_limit(http::kMaxBodyBytes);
    parser.eager(true);
    boost::beast::error_code ec;
    const size_t used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
    if (ec || !parser.is_done()) return 0;  // an error answer, or a wait for more
    rest.remove_prefix(used);
    Handle(broker, parser.get());
  }
  return 0;
}

}  // namespace sluice::fuzz
