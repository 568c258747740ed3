#include "common/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "common/digest.h"

namespace sluice::sigv4 {
namespace {

using std::chrono::system_clock;

constexpr std::string_view kWhiteSpace = " \t\r\n";
constexpr std::string_view kSignatureParam = "X-Amz-Signature";

std::string_view Trim(std::string_view s) {
  const size_t begin = s.find_first_not_of(kWhiteSpace);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(kWhiteSpace) - begin + 1);
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return Lower(x) == Lower(y); });
}

// A request target's path and raw query, either side of the first '?'.
std::pair<std::string_view, std::string_view> SplitTarget(std::string_view target) {
  const size_t question = target.find('?');
  if (question == std::string_view::npos) return {target, {}};
  return {target.substr(0, question), target.substr(question + 1)};
}

// The pieces of `s` between `separator`s, empty ones included.
std::vector<std::string_view> Split(std::string_view s, char separator) {
  std::vector<std::string_view> pieces;
  for (size_t start = 0;;) {
    const size_t end = s.find(separator, start);
    pieces.push_back(s.substr(start, end - start));
    if (end == std::string_view::npos) return pieces;
    start = end + 1;
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// As a form decodes a query: "+" is a space. A '%' not followed by two hex
// digits stays as it is, to be encoded as "%25".
std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    hex += kHex[b >> 4];
    hex += kHex[b & 0xf];
  }
  return hex;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  // On failure (memory) `size` stays 0 and no signature can match.
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &size);
  return std::string(reinterpret_cast<const char*>(out), size);
}

// Every header called `name` (any case): values trimmed, white space
// collapsed, joined with ','. Nothing when there is none.
std::optional<std::string> HeaderValue(std::span<const HeaderView> headers, std::string_view name) {
  std::optional<std::string> joined;
  for (const auto& [header_name, value] : headers) {
    if (!EqualsIgnoringCase(header_name, name)) continue;
    if (joined) {
      *joined += ',';
    } else {
      joined.emplace();
    }
    bool space = false;
    for (char c : Trim(value)) {
      if (kWhiteSpace.find(c) != std::string_view::npos) {
        space = true;
        continue;
      }
      if (space) *joined += ' ';
      space = false;
      *joined += c;
    }
  }
  return joined;
}

// An HTTP Date header's IMF-fixdate, "Sun, 30 Aug 2015 12:36:00 GMT".
std::optional<std::chrono::sys_seconds> ParseHttpDate(std::string_view s) {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() != 29 || s.substr(3, 2) != ", " || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT") {
    return std::nullopt;
  }
  const auto month = std::find(std::begin(kMonths), std::end(kMonths), s.substr(8, 3));
  if (month == std::end(kMonths)) return std::nullopt;
  // Rewritten as an X-Amz-Date, which ParseAmzDate checks field by field.
  char amz_date[32];
  std::snprintf(amz_date, sizeof amz_date, "%.4s%02d%.2sT%.2s%.2s%.2sZ", s.data() + 12,
                static_cast<int>(month - std::begin(kMonths)) + 1, s.data() + 5, s.data() + 17,
                s.data() + 20, s.data() + 23);
  return ParseAmzDate(amz_date);
}

AuthError Incomplete(std::string message) { return {"IncompleteSignature", std::move(message)}; }

AuthError Mismatch(std::string_view detail = {}) {
  std::string message =
      "The request signature we calculated does not match the signature you provided. Check "
      "your AWS Secret Access Key and signing method.";
  if (!detail.empty()) {
    message += ' ';
    message += detail;
  }
  return {"SignatureDoesNotMatch", std::move(message)};
}

// What a request says about its signature, from either of the two places it
// may say it, before any of it is checked.
struct Claim {
  std::string credential;  // "AKID/20150830/us-east-1/sqs/aws4_request"
  std::string signed_headers;
  std::string signature;
  std::string amz_date;                         // as in the string to sign
  std::optional<std::chrono::seconds> expires;  // a presigned request's X-Amz-Expires
};

// "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...", with
// or without spaces after the commas.
Result<Claim, AuthError> ClaimOfHeader(std::string_view authorization,
                                       std::span<const HeaderView> headers) {
  authorization = Trim(authorization);
  const size_t space = authorization.find_first_of(kWhiteSpace);
  const std::string_view algorithm = authorization.substr(0, space);
  if (algorithm != kAlgorithm) {
    return Incomplete("Unsupported AWS 'algorithm': '" + std::string(algorithm) + "'.");
  }
  Claim claim;
  std::string* fields[] = {&claim.credential, &claim.signed_headers, &claim.signature};
  constexpr std::string_view kNames[] = {"Credential", "SignedHeaders", "Signature"};
  bool seen[3] = {};
  const std::string_view rest = space == std::string_view::npos ? "" : authorization.substr(space);
  for (std::string_view part : Split(rest, ',')) {
    part = Trim(part);
    const size_t equals = part.find('=');
    const auto name = std::find(std::begin(kNames), std::end(kNames), part.substr(0, equals));
    if (equals == std::string_view::npos || name == std::end(kNames)) {
      return Incomplete("Authorization header has a malformed part: '" + std::string(part) + "'.");
    }
    const size_t i = static_cast<size_t>(name - std::begin(kNames));
    if (seen[i]) return Incomplete("Authorization header repeats '" + std::string(*name) + "'.");
    seen[i] = true;
    *fields[i] = part.substr(equals + 1);
  }
  std::string missing;
  for (size_t i = 0; i < std::size(kNames); ++i) {
    if (!seen[i]) {
      missing += "Authorization header requires '" + std::string(kNames[i]) + "' parameter. ";
    }
  }
  if (!missing.empty()) {
    missing.pop_back();
    return Incomplete(std::move(missing));
  }

  if (std::optional<std::string> date = HeaderValue(headers, "x-amz-date")) {
    claim.amz_date = std::move(*date);
  } else if (std::optional<std::string> http_date = HeaderValue(headers, "date")) {
    std::optional<std::chrono::sys_seconds> t = ParseHttpDate(*http_date);
    if (!t) return Incomplete("Date header is not an HTTP date: '" + *http_date + "'.");
    claim.amz_date = FormatAmzDate(*t);
  } else {
    return Incomplete(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  return claim;
}

// A presigned request's X-Amz-* query parameters.
Result<Claim, AuthError> ClaimOfQuery(std::span<const QueryParam> params) {
  constexpr std::string_view kNames[] = {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
                                         "X-Amz-SignedHeaders", kSignatureParam};
  std::optional<std::string> values[std::size(kNames)];
  std::optional<std::string> expires;
  // The first of each counts; any others are signed as parameters like any.
  for (const auto& [key, value] : params) {
    if (key == "X-Amz-Expires" && !expires) expires = value;
    for (size_t i = 0; i < std::size(kNames); ++i) {
      if (key == kNames[i] && !values[i]) values[i] = value;
    }
  }
  if (std::any_of(std::begin(values), std::end(values), [](const auto& v) { return !v; })) {
    return Incomplete(
        "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', "
        "'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders'. Re-examine the query-string "
        "parameters.");
  }
  if (*values[0] != kAlgorithm) {
    return Incomplete("Unsupported AWS 'algorithm': '" + *values[0] + "'.");
  }
  Claim claim{.credential = *values[1],
              .signed_headers = *values[3],
              .signature = *values[4],
              .amz_date = *values[2],
              .expires = std::nullopt};
  if (expires) {
    long seconds = 0;
    const char* end = expires->data() + expires->size();
    const auto [ptr, ec] = std::from_chars(expires->data(), end, seconds);
    if (ec != std::errc() || ptr != end || seconds < 1 || seconds > kMaxPresignedExpiry.count()) {
      return Incomplete("X-Amz-Expires must be a number of seconds from 1 to 604800.");
    }
    claim.expires = std::chrono::seconds(seconds);
  }
  return claim;
}

// Whether the request's time `t` is close enough to `now`.
std::optional<AuthError> CheckTime(const Claim& claim, std::chrono::sys_seconds t,
                                   system_clock::time_point now) {
  const auto later_bound = now + kMaxClockSkew;
  const auto earlier_bound = claim.expires ? now - *claim.expires : now - kMaxClockSkew;
  if (t > later_bound) {
    return AuthError{"RequestExpired", "Signature not yet current: " + claim.amz_date +
                                           " is still later than " + FormatAmzDate(later_bound) +
                                           " (" + FormatAmzDate(now) + " + 15 min.)"};
  }
  if (t < earlier_bound) {
    if (claim.expires) return AuthError{"RequestExpired", "Request has expired."};
    return AuthError{"RequestExpired", "Signature expired: " + claim.amz_date +
                                           " is now earlier than " + FormatAmzDate(earlier_bound) +
                                           " (" + FormatAmzDate(now) + " - 15 min.)"};
  }
  return std::nullopt;
}

}  // namespace

std::string UriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out += c;
    } else {
      const auto b = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 0xf];
    }
  }
  return out;
}

std::string CanonicalUri(std::string_view path, UriEncoding encoding) {
  if (path.empty()) return "/";
  if (encoding == UriEncoding::kAsSent) return std::string(path);
  // RFC 3986's dot-segment removal, and empty segments dropped too, as
  // botocore and the JS SDK do; a trailing '/' stays.
  std::vector<std::string_view> segments;
  for (std::string_view segment : Split(path, '/')) {
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
      continue;
    }
    segments.push_back(segment);
  }
  std::string uri = "/";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) uri += '/';
    uri += UriEncode(segments[i]);
  }
  if (!segments.empty() && path.back() == '/') uri += '/';
  return uri;
}

std::vector<QueryParam> ParseQuery(std::string_view raw_query) {
  std::vector<QueryParam> params;
  for (std::string_view piece : Split(raw_query, '&')) {
    if (piece.empty()) continue;
    const size_t equals = piece.find('=');
    params.emplace_back(
        PercentDecode(piece.substr(0, equals)),
        equals == std::string_view::npos ? std::string() : PercentDecode(piece.substr(equals + 1)));
  }
  return params;
}

std::string CanonicalQueryString(std::span<const QueryParam> params) {
  std::vector<QueryParam> encoded;
  encoded.reserve(params.size());
  for (const auto& [key, value] : params) {
    if (key != kSignatureParam) encoded.emplace_back(UriEncode(key), UriEncode(value));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string query;
  for (const auto& [key, value] : encoded) {
    if (!query.empty()) query += '&';
    query += key;
    query += '=';
    query += value;
  }
  return query;
}

std::string SignedHeadersOf(std::span<const HeaderView> headers) {
  std::vector<std::string> names;
  names.reserve(headers.size());
  for (const auto& header : headers) names.push_back(Lower(header.first));
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string joined;
  for (const std::string& name : names) {
    if (!joined.empty()) joined += ';';
    joined += name;
  }
  return joined;
}

std::optional<std::string> CanonicalHeaders(std::span<const HeaderView> headers,
                                            std::string_view signed_headers) {
  std::string canonical;
  if (signed_headers.empty()) return canonical;
  for (std::string_view name : Split(signed_headers, ';')) {
    if (name.empty()) return std::nullopt;
    std::optional<std::string> value = HeaderValue(headers, name);
    if (!value) return std::nullopt;
    canonical += name;
    canonical += ':';
    canonical += *value;
    canonical += '\n';
  }
  return canonical;
}

std::string HashedPayload(std::span<const HeaderView> headers, std::string_view body) {
  std::optional<std::string> declared = HeaderValue(headers, "x-amz-content-sha256");
  return declared ? *declared : Sha256Hex(body);
}

std::optional<std::string> CanonicalRequest(const HttpRequestView& req,
                                            std::string_view signed_headers, UriEncoding encoding) {
  std::optional<std::string> headers = CanonicalHeaders(req.headers, signed_headers);
  if (!headers) return std::nullopt;
  const auto [path, query] = SplitTarget(req.target);
  std::string canonical(req.method);
  canonical += '\n';
  canonical += CanonicalUri(path, encoding);
  canonical += '\n';
  canonical += CanonicalQueryString(ParseQuery(query));
  canonical += '\n';
  canonical += *headers;
  canonical += '\n';
  canonical += signed_headers;
  canonical += '\n';
  canonical += HashedPayload(req.headers, req.body);
  return canonical;
}

std::string CredentialScope(std::string_view date, std::string_view region,
                            std::string_view service) {
  std::string scope(date);
  scope += '/';
  scope += region;
  scope += '/';
  scope += service;
  scope += "/aws4_request";
  return scope;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  std::string s(kAlgorithm);
  s += '\n';
  s += amz_date;
  s += '\n';
  s += scope;
  s += '\n';
  s += Sha256Hex(canonical_request);
  return s;
}

std::string SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service) {
  const std::string k_date = HmacSha256("AWS4" + std::string(secret), date);
  const std::string k_region = HmacSha256(k_date, region);
  const std::string k_service = HmacSha256(k_region, service);
  return HmacSha256(k_service, "aws4_request");
}

std::string Signature(std::string_view signing_key, std::string_view string_to_sign) {
  return Hex(HmacSha256(signing_key, string_to_sign));
}

std::string FormatAmzDate(system_clock::time_point t) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(t);
  const auto days = std::chrono::floor<std::chrono::days>(seconds);
  const std::chrono::year_month_day ymd(days);
  const std::chrono::hh_mm_ss hms(seconds - days);
  char out[32];
  std::snprintf(out, sizeof out, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return out;
}

std::optional<std::chrono::sys_seconds> ParseAmzDate(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  auto number = [&](size_t at, size_t digits) {
    int n = 0;
    for (size_t i = at; i < at + digits; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      n = n * 10 + (s[i] - '0');
    }
    return n;
  };
  const int year = number(0, 4), month = number(4, 2), day = number(6, 2);
  const int hour = number(9, 2), minute = number(11, 2), second = number(13, 2);
  const std::chrono::year_month_day ymd{std::chrono::year(year),
                                        std::chrono::month(static_cast<unsigned>(month)),
                                        std::chrono::day(static_cast<unsigned>(day))};
  if (year < 0 || month < 0 || day < 0 || !ymd.ok() || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 59) {
    return std::nullopt;
  }
  return std::chrono::sys_days(ymd) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
         std::chrono::seconds(second);
}

std::string AuthorizationHeader(const HttpRequestView& req, const SigningParams& params) {
  const std::string signed_headers = SignedHeadersOf(req.headers);
  // Every header it names is in `req`, so there is a canonical request.
  const std::string canonical = *CanonicalRequest(req, signed_headers, params.uri_encoding);
  const std::string_view date = params.amz_date.substr(0, 8);
  const std::string scope = CredentialScope(date, params.region, params.service);
  const std::string signature =
      Signature(SigningKey(params.secret, date, params.region, params.service),
                StringToSign(params.amz_date, scope, canonical));
  std::string header(kAlgorithm);
  header += " Credential=";
  header += params.access_key_id;
  header += '/';
  header += scope;
  header += ", SignedHeaders=";
  header += signed_headers;
  header += ", Signature=";
  header += signature;
  return header;
}

Result<Identity, AuthError> Verify(const HttpRequestView& req, const CredentialStore& credentials,
                                   std::string_view service, system_clock::time_point now) {
  const std::vector<QueryParam> params = ParseQuery(SplitTarget(req.target).second);
  const bool presigned = std::any_of(params.begin(), params.end(), [](const QueryParam& p) {
    return p.first == "X-Amz-Algorithm" || p.first == "X-Amz-Credential" ||
           p.first == kSignatureParam;
  });
  const std::optional<std::string> authorization = HeaderValue(req.headers, "authorization");
  if (authorization && presigned) {
    return Incomplete(
        "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the "
        "Authorization header should be specified.");
  }
  if (!authorization && !presigned) {
    return AuthError{"MissingAuthenticationToken", "Request is missing Authentication Token"};
  }
  Result<Claim, AuthError> parsed =
      authorization ? ClaimOfHeader(*authorization, req.headers) : ClaimOfQuery(params);
  if (!parsed.ok()) return parsed.error();
  const Claim& claim = *parsed;

  // "AKID/YYYYMMDD/region/service/aws4_request"
  const std::vector<std::string_view> scope = Split(claim.credential, '/');
  if (scope.size() != 5 || scope[0].empty() || scope[2].empty() || scope[4] != "aws4_request") {
    return Incomplete(
        "Credential is malformed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/"
        "aws4_request\".");
  }
  const std::optional<std::chrono::sys_seconds> time = ParseAmzDate(claim.amz_date);
  if (!time) {
    return Incomplete("Date must be in ISO-8601 'basic format'. Got '" + claim.amz_date + "'.");
  }
  if (scope[1] != std::string_view(claim.amz_date).substr(0, 8)) {
    return Mismatch(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
        "date from HTTP: '" +
        std::string(scope[1]) + "' != '" + claim.amz_date.substr(0, 8) + "', from '" +
        claim.amz_date + "'.");
  }
  if (scope[3] != service) {
    return Mismatch("Credential should be scoped to correct service: '" + std::string(service) +
                    "'.");
  }
  if (std::optional<AuthError> expired = CheckTime(claim, *time, now)) return *expired;

  const Credential* credential = credentials.Find(scope[0]);
  if (credential == nullptr) {
    return AuthError{"InvalidClientTokenId",
                     "The security token included in the request is invalid."};
  }
  const UriEncoding encoding =
      service == "s3" ? UriEncoding::kAsSent : UriEncoding::kNormalizeAndEncode;
  const std::optional<std::string> canonical =
      CanonicalRequest(req, claim.signed_headers, encoding);
  if (!canonical) return Mismatch("A header named in SignedHeaders is absent.");
  const std::string expected = Signature(
      SigningKey(credential->secret, scope[1], scope[2], scope[3]),
      StringToSign(claim.amz_date, CredentialScope(scope[1], scope[2], scope[3]), *canonical));
  // Constant time, so that timing tells a forger nothing of the right one.
  if (claim.signature.size() != expected.size() ||
      CRYPTO_memcmp(claim.signature.data(), expected.data(), expected.size()) != 0) {
    return Mismatch();
  }
  // A declared hash is what was signed; it must also be the body's.
  const std::string payload = HashedPayload(req.headers, req.body);
  if (payload != kUnsignedPayload && payload != Sha256Hex(req.body)) {
    return Mismatch("The x-amz-content-sha256 header does not match the body.");
  }
  return Identity{.name = credential->name, .access_key_id = credential->access_key_id};
}

}  // namespace sluice::sigv4
