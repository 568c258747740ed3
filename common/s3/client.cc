#include "common/s3/client.h"

#include <curl/curl.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "common/backoff.h"
#include "common/digest.h"
#include "common/sigv4.h"

namespace sluice::s3 {
namespace {

// The SHA-256 of an empty body, which GET, DELETE and a copy's PUT sign.
constexpr char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

void InitCurlOnce() {
  // curl_global_init is not thread-safe; a static's initialization is.
  static const bool initialized = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  (void)initialized;
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool StartsWithIgnoringCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (Lower(s[i]) != Lower(prefix[i])) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

bool Retryable(int status, std::string_view code) {
  return status == 429 || status >= 500 || code == "SlowDown" || code == "RequestTimeout" ||
         code == "InternalError";
}

ErrorKind KindOf(int status) {
  if (status == 404) return ErrorKind::kNotFound;
  if (status == 403) return ErrorKind::kAccessDenied;
  if (status == 429 || status >= 500) return ErrorKind::kUnavailable;
  return ErrorKind::kRejected;
}

}  // namespace

struct Client::Request {
  std::string_view operation;  // "GetObject", for errors and metrics
  std::string_view method;     // "GET", "PUT", "DELETE"
  std::string_view bucket;
  std::string_view key;  // for messages; the target already holds it
  Target target;
  std::string_view body = {};  // PUT only
  std::string content_type = {};
  std::string copy_source = {};  // x-amz-copy-source, CopyObject only
  uint64_t max_bytes = 0;        // 0: no cap
};

struct Client::Response {
  int status = 0;
  std::string body;
  std::string etag;
  bool over_cap = false;
};

// An easy handle borrowed from the pool for one call, given back after it.
class Client::Lease {
 public:
  explicit Lease(Client* client) : client_(client) {
    std::lock_guard lock(client_->mu_);
    if (!client_->idle_.empty()) {
      curl_ = client_->idle_.back();
      client_->idle_.pop_back();
    }
    if (curl_ == nullptr) curl_ = curl_easy_init();
  }
  ~Lease() {
    if (curl_ == nullptr) return;
    std::lock_guard lock(client_->mu_);
    client_->idle_.push_back(curl_);
  }
  CURL* get() const { return static_cast<CURL*>(curl_); }

 private:
  Client* client_;
  void* curl_ = nullptr;
};

Client::Client(Config config, ClientOptions options)
    : config_(std::move(config)), options_(std::move(options)) {
  InitCurlOnce();
}

Client::~Client() {
  for (void* curl : idle_) curl_easy_cleanup(static_cast<CURL*>(curl));
}

namespace {

struct Transfer {
  std::string_view upload;  // what is left to send
  std::string* body;
  std::string* etag;
  uint64_t max_bytes;
  bool* over_cap;
};

size_t OnWrite(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t bytes = size * n;
  // A server that sends no Content-Length (chunked) is held to the cap here.
  if (t->max_bytes != 0 && t->body->size() + bytes > t->max_bytes) {
    *t->over_cap = true;
    return 0;  // makes curl stop with CURLE_WRITE_ERROR
  }
  t->body->append(data, bytes);
  return bytes;
}

size_t OnRead(char* buffer, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t bytes = std::min(size * n, t->upload.size());
  std::memcpy(buffer, t->upload.data(), bytes);
  t->upload.remove_prefix(bytes);
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string_view line(data, size * n);
  if (StartsWithIgnoringCase(line, "etag:")) {
    *t->etag = Unquote(Trim(line.substr(5)));
  }
  return size * n;
}

}  // namespace

Result<Client::Response, Error> Client::Attempt(void* handle, const Request& request) {
  CURL* curl = static_cast<CURL*>(handle);
  // Options go back to their defaults; the connection stays.
  curl_easy_reset(curl);

  const std::string amz_date = sigv4::FormatAmzDate(std::chrono::system_clock::now());
  const std::string payload_hash =
      request.method == "PUT" && !request.body.empty() ? Sha256Hex(request.body) : kEmptySha256;
  std::vector<std::pair<std::string, std::string>> headers = {
      {"host", request.target.host},
      {"x-amz-content-sha256", payload_hash},
      {"x-amz-date", amz_date},
  };
  if (!config_.session_token.empty()) {
    headers.emplace_back("x-amz-security-token", config_.session_token);
  }
  if (!request.copy_source.empty()) headers.emplace_back("x-amz-copy-source", request.copy_source);
  std::vector<sigv4::HeaderView> views;
  for (const auto& [name, value] : headers) views.emplace_back(name, value);
  const std::string_view url(request.target.url);
  const size_t query_at = url.find('?');
  const std::string target =
      request.target.path +
      std::string(query_at == std::string_view::npos ? "" : url.substr(query_at));
  sigv4::SigningParams params{
      config_.access_key_id,      config_.secret_access_key, config_.region, "s3", amz_date,
      sigv4::UriEncoding::kAsSent};
  const std::string authorization =
      sigv4::AuthorizationHeader({request.method, target, views, request.body}, params);

  curl_slist* list = nullptr;
  for (const auto& [name, value] : headers)
    list = curl_slist_append(list, (name + ": " + value).c_str());
  list = curl_slist_append(list, ("Authorization: " + authorization).c_str());
  list = curl_slist_append(list, "Expect:");  // no 100-continue round trip
  if (!request.content_type.empty()) {
    list = curl_slist_append(list, ("Content-Type: " + request.content_type).c_str());
  }

  Response response;
  Transfer transfer{request.body, &response.body, &response.etag, request.max_bytes,
                    &response.over_cap};
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, request.target.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, options_.stall_seconds);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnWrite);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  if (request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, OnRead);
    curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, std::string(request.method).c_str());
  }
  if (request.max_bytes != 0) {
    // Refused from the Content-Length, before the body is read.
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(request.max_bytes));
  }

  const auto started = std::chrono::steady_clock::now();
  const CURLcode code = curl_easy_perform(curl);
  long status = 0;
  if (code == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(list);
  if (options_.observer) {
    options_.observer(
        request.operation, static_cast<int>(status),
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  const std::string what = std::string(request.operation) + " " + std::string(request.bucket) +
                           "/" + std::string(request.key);
  if (code == CURLE_FILESIZE_EXCEEDED || response.over_cap) {
    return Error{
        ErrorKind::kTooLarge, 0, "TooLarge",
        what + ": the object is larger than " + std::to_string(request.max_bytes) + " bytes"};
  }
  if (code != CURLE_OK) {
    return Error{ErrorKind::kUnavailable, 0, curl_easy_strerror(code),
                 what + ": " + (error_buffer[0] != 0 ? error_buffer : curl_easy_strerror(code))};
  }
  response.status = static_cast<int>(status);
  return response;
}

Result<Client::Response, Error> Client::Call(const Request& request) {
  Backoff backoff(options_.first_backoff_ms, options_.max_backoff_ms);
  Lease lease(this);
  for (int attempt = 1;; ++attempt) {
    auto response = Attempt(lease.get(), request);
    std::optional<Error> error;
    if (!response.ok()) {
      if (response.error().kind != ErrorKind::kUnavailable) return response.error();
      error = response.error();
    } else {
      const int status = response->status;
      // CopyObject may answer 200 and put its error in the body.
      std::optional<ErrorBody> body;
      if (status >= 300 || request.operation == "CopyObject") {
        body = ParseErrorBody(response->body);
      }
      if (status < 300 && !body) return response;
      const std::string code = body ? body->code : "";
      error = Error{status < 300 ? ErrorKind::kUnavailable : KindOf(status), status, code,
                    std::string(request.operation) + " " + std::string(request.bucket) + "/" +
                        std::string(request.key) + ": " + std::to_string(status) +
                        (code.empty() ? "" : " " + code) +
                        (body && !body->message.empty() ? ": " + body->message : "")};
      if (!Retryable(status, code)) return *error;
      error->kind = ErrorKind::kUnavailable;
    }
    if (attempt >= options_.max_attempts) return *error;
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff.Next()));
  }
}

Result<Object, Error> Client::Get(std::string_view bucket, std::string_view key,
                                  uint64_t max_bytes) {
  Request request{.operation = "GetObject",
                  .method = "GET",
                  .bucket = bucket,
                  .key = key,
                  .target = TargetOf(config_, bucket, key),
                  .max_bytes = max_bytes};
  auto response = Call(request);
  if (!response.ok()) return response.error();
  return Object{std::move(response->body), std::move(response->etag)};
}

Result<std::string, Error> Client::Put(std::string_view bucket, std::string_view key,
                                       std::string_view data, std::string_view content_type) {
  Request request{.operation = "PutObject",
                  .method = "PUT",
                  .bucket = bucket,
                  .key = key,
                  .target = TargetOf(config_, bucket, key),
                  .body = data,
                  .content_type = std::string(content_type)};
  auto response = Call(request);
  if (!response.ok()) return response.error();
  return std::move(response->etag);
}

Result<bool, Error> Client::Copy(std::string_view bucket, std::string_view from,
                                 std::string_view to) {
  Request request{
      .operation = "CopyObject",
      .method = "PUT",
      .bucket = bucket,
      .key = to,
      .target = TargetOf(config_, bucket, to),
      .copy_source = "/" + std::string(bucket) + "/" + sigv4::UriEncode(from, /*keep_slash=*/true)};
  auto response = Call(request);
  if (!response.ok()) return response.error();
  return true;
}

Result<bool, Error> Client::Delete(std::string_view bucket, std::string_view key) {
  Request request{.operation = "DeleteObject",
                  .method = "DELETE",
                  .bucket = bucket,
                  .key = key,
                  .target = TargetOf(config_, bucket, key)};
  auto response = Call(request);
  if (!response.ok()) return response.error();
  return true;
}

Result<ListPage, Error> Client::List(std::string_view bucket, std::string_view prefix,
                                     std::string_view continuation_token, int max_keys) {
  // Parameters in the order SigV4 sorts them, though the signer sorts anyway.
  std::string query;
  if (!continuation_token.empty()) {
    query += "continuation-token=" + sigv4::UriEncode(continuation_token) + "&";
  }
  query += "encoding-type=url&list-type=2&max-keys=" + std::to_string(max_keys) +
           "&prefix=" + sigv4::UriEncode(prefix);
  Request request{.operation = "ListObjectsV2",
                  .method = "GET",
                  .bucket = bucket,
                  .key = prefix,
                  .target = TargetOf(config_, bucket, "", query)};
  auto response = Call(request);
  if (!response.ok()) return response.error();
  auto page = ParseListPage(response->body);
  if (!page.ok()) {
    return Error{ErrorKind::kUnavailable, response->status, "MalformedAnswer", page.error()};
  }
  return std::move(*page);
}

}  // namespace sluice::s3
