// Client: the few S3 calls Sluice makes (GetObject, PutObject, CopyObject,
// DeleteObject, ListObjectsV2), over libcurl, signed with SigV4
// (common/sigv4.h) and answered in S3's XML (common/s3/xml.h).
//
// Connections are kept: each call borrows an easy handle from the client's
// pool and gives it back, so a worker thread's calls reuse one connection
// (libcurl keeps it open in the handle) and no call waits for another's.
// Safe to call from several threads at once.
//
// Retries: a network error, a 5xx, 429, or SlowDown/RequestTimeout/
// InternalError is tried again, up to `max_attempts` in all, after an
// exponential backoff with jitter (common/backoff.h); then it is kUnavailable.
// 404 is kNotFound and 403 kAccessDenied at once. Get() refuses an object
// larger than its cap from the Content-Length, before reading the body.
#ifndef SLUICE_COMMON_S3_CLIENT_H_
#define SLUICE_COMMON_S3_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/s3/config.h"
#include "common/s3/xml.h"
#include "common/status.h"

namespace sluice::s3 {

enum class ErrorKind {
  kNotFound,      // 404: NoSuchKey, NoSuchBucket
  kAccessDenied,  // 403: AccessDenied, SignatureDoesNotMatch, InvalidAccessKeyId, ...
  kTooLarge,      // over the caller's cap
  kRejected,      // another 4xx: the request is wrong, and retrying will not help
  kUnavailable,   // network errors and 5xx, still failing after the retries
};

struct Error {
  ErrorKind kind;
  int http_status = 0;  // 0 when no answer came
  std::string code;     // S3's error code, or curl's error for a network failure
  std::string message;

  // "GetObject photos/pending/cat.jpg: 404 NoSuchKey: The specified key does not exist."
  std::string ToString() const { return message; }
};

struct Object {
  std::string data;
  std::string etag;
};

// Told about every attempt: the operation ("GetObject"), the HTTP status (0
// when no answer came) and how long it took. For metrics (common/s3/metrics.h).
using RequestObserver =
    std::function<void(std::string_view operation, int http_status, double seconds)>;

struct ClientOptions {
  int max_attempts = 4;
  Millis first_backoff_ms = 100;
  Millis max_backoff_ms = 2'000;
  long connect_timeout_ms = 5'000;
  // A transfer slower than 1 byte/s for this long is abandoned (and retried).
  long stall_seconds = 30;
  RequestObserver observer;
};

class Client {
 public:
  explicit Client(Config config, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const Config& config() const { return config_; }

  Result<Object, Error> Get(std::string_view bucket, std::string_view key, uint64_t max_bytes);
  // The new object's ETag.
  Result<std::string, Error> Put(std::string_view bucket, std::string_view key,
                                 std::string_view data, std::string_view content_type = "");
  Result<bool, Error> Copy(std::string_view bucket, std::string_view from, std::string_view to);
  // S3 answers 204 whether or not the key existed.
  Result<bool, Error> Delete(std::string_view bucket, std::string_view key);
  // One page of the keys under `prefix`, after `continuation_token` (empty
  // for the first page).
  Result<ListPage, Error> List(std::string_view bucket, std::string_view prefix,
                               std::string_view continuation_token, int max_keys = 1000);

 private:
  struct Request;
  struct Response;
  class Lease;

  Result<Response, Error> Call(const Request& request);
  Result<Response, Error> Attempt(void* curl, const Request& request);

  const Config config_;
  const ClientOptions options_;
  std::mutex mu_;
  std::vector<void*> idle_;  // CURL easy handles, each keeping its connection
};

}  // namespace sluice::s3

#endif  // SLUICE_COMMON_S3_CLIENT_H_
