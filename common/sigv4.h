// AWS Signature Version 4 (AWS4-HMAC-SHA256): the signing steps, which the
// broker's verifier and a client's signer share, and the verifier.
//
// A signature is HMAC-SHA256(signing key, string to sign). The string to sign
// hashes the canonical request, the request reduced to one agreed form; the
// signing key is derived from the secret, the date, the region and the
// service, the "credential scope". Each step is a function of its own so that
// tests can hold it to AWS's published vectors (aws-sig-v4-test-suite).
//
// Verify() authenticates a request signed in its Authorization header or
// presigned in its query string, and answers with AWS's error codes. It keeps
// no state: the signing key is derived anew for each request.
#ifndef SLUICE_COMMON_SIGV4_H_
#define SLUICE_COMMON_SIGV4_H_

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/credentials.h"
#include "common/status.h"

namespace sluice::sigv4 {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
// The x-amz-content-sha256 value of a request whose body is not signed.
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// How far a request's time may be from the verifier's, either way.
inline constexpr std::chrono::minutes kMaxClockSkew{15};
// The longest X-Amz-Expires a presigned request may ask for: 7 days, as AWS.
inline constexpr std::chrono::seconds kMaxPresignedExpiry{7 * 24 * 3600};

// A header as received: a name in any case, and its value.
using HeaderView = std::pair<std::string_view, std::string_view>;

// An HTTP request as received. It views memory that the caller keeps alive.
struct HttpRequestView {
  std::string_view method;          // "POST"
  std::string_view target;          // as on the request line: "/path?raw=query"
  std::vector<HeaderView> headers;  // in the order received, repeated names included
  std::string_view body;
};

// How the canonical URI is made from the path as sent on the request line.
// AWS says that outside S3 "each path segment is URI-encoded twice": once
// for the wire, once more for signing. So botocore (SigV4Auth) and the JS
// SDK sign the path they send, normalized and percent-encoded once more ("%"
// becomes "%25"; SQS's paths, "/" and "/<account>/<queue>", never change).
// S3 signs the path exactly as sent.
enum class UriEncoding {
  kNormalizeAndEncode,  // every service but S3: empty, "." and ".." segments removed, then encoded
  kAsSent,              // S3
};

// RFC 3986 percent-encoding as SigV4 has it: every byte but A-Za-z0-9-_.~
// (and '/', when `keep_slash`) as "%XY", upper-case hex; a space is "%20".
std::string UriEncode(std::string_view s, bool keep_slash = false);

// The canonical URI of `path`, the request target's part before any '?'.
std::string CanonicalUri(std::string_view path, UriEncoding encoding);

using QueryParam = std::pair<std::string, std::string>;

// The parameters of a raw query string, percent-decoded ('+' is a space), in
// the order sent. "a" with no '=' has an empty value; empty pieces are skipped.
std::vector<QueryParam> ParseQuery(std::string_view raw_query);

// "k1=v1&k2=v2": keys and values UriEncoded, sorted by encoded key, then by
// encoded value. X-Amz-Signature is left out: a presigned request's
// signature does not sign itself.
std::string CanonicalQueryString(std::span<const QueryParam> params);

// What a signer signs: the names of all `headers`, lower-case, sorted,
// without repeats, joined with ';' ("content-type;host;x-amz-date").
std::string SignedHeadersOf(std::span<const HeaderView> headers);

// "name:value\n" for each name in `signed_headers` (';'-separated, in that
// order), matching header names in any case. The value joins every header
// of that name with ',', each trimmed and its inner runs of white space
// collapsed to one space. Nothing when a header named is absent (an empty
// list names none).
std::optional<std::string> CanonicalHeaders(std::span<const HeaderView> headers,
                                            std::string_view signed_headers);

// The x-amz-content-sha256 header's value when there is one (a hash, or
// UNSIGNED-PAYLOAD), or else the hex SHA-256 of `body`.
std::string HashedPayload(std::span<const HeaderView> headers, std::string_view body);

// The canonical request: the method, canonical URI, canonical query string,
// canonical headers, signed headers and hashed payload, a line each. Nothing
// when a header that `signed_headers` names is absent.
std::optional<std::string> CanonicalRequest(const HttpRequestView& req,
                                            std::string_view signed_headers, UriEncoding encoding);

// "20150830/us-east-1/sqs/aws4_request"; `date` is YYYYMMDD.
std::string CredentialScope(std::string_view date, std::string_view region,
                            std::string_view service);

// "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex SHA-256 of canonical_request>".
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);

// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
// "aws4_request"): 32 raw bytes. A signer may keep it for the day.
std::string SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service);

// Lower-case hex HMAC-SHA256(signing_key, string_to_sign).
std::string Signature(std::string_view signing_key, std::string_view string_to_sign);

// X-Amz-Date's format, "20150830T123600Z" (UTC, whole seconds), both ways.
std::string FormatAmzDate(std::chrono::system_clock::time_point t);
std::optional<std::chrono::sys_seconds> ParseAmzDate(std::string_view s);

// What a signer signs with.
struct SigningParams {
  std::string_view access_key_id;
  std::string_view secret;
  std::string_view region;
  std::string_view service;
  std::string_view amz_date;  // FormatAmzDate(now): the value of the request's X-Amz-Date
  UriEncoding uri_encoding = UriEncoding::kNormalizeAndEncode;
};

// The Authorization header's value that signs `req` and every header in it.
// `req` must already hold the headers to sign (Host and X-Amz-Date at least;
// x-amz-content-sha256 for S3) and no Authorization header.
std::string AuthorizationHeader(const HttpRequestView& req, const SigningParams& params);

// Who signed a request.
struct Identity {
  std::string name;  // the credential's name (its section in the credentials file)
  std::string access_key_id;
};

// Why a request is not authenticated, as AWS says it.
struct AuthError {
  std::string code;  // "SignatureDoesNotMatch", "RequestExpired", ...
  std::string message;
};

// The identity whose secret signed `req` for `service` ("sqs"), in any
// region, at a time within kMaxClockSkew of `now` (or, for a presigned
// request with X-Amz-Expires, up to that long after its X-Amz-Date). The
// error codes:
//   MissingAuthenticationToken  neither an Authorization header nor X-Amz-* query auth
//   IncompleteSignature         either is malformed, or no X-Amz-Date or Date
//   InvalidClientTokenId        the access key id is not in `credentials`
//   SignatureDoesNotMatch       the signature, the scope's date or service, or the
//                               x-amz-content-sha256 (a hash must be the body's) is wrong
//   RequestExpired              the request's time is out of bounds
// The canonical URI is kAsSent for service "s3" and kNormalizeAndEncode otherwise.
Result<Identity, AuthError> Verify(const HttpRequestView& req, const CredentialStore& credentials,
                                   std::string_view service,
                                   std::chrono::system_clock::time_point now);

}  // namespace sluice::sigv4

#endif  // SLUICE_COMMON_SIGV4_H_
