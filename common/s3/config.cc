#include "common/s3/config.h"

#include <cstdlib>

#include "common/sigv4.h"

namespace sluice::s3 {
namespace {

// "host", "host:9000", "[::1]:9000": a non-empty host, and a port of 1-65535
// when there is one.
bool IsHostPort(std::string_view s) {
  std::string_view host = s, port;
  if (s.starts_with('[')) {
    const size_t close = s.find(']');
    if (close == std::string_view::npos) return false;
    host = s.substr(0, close + 1);
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
      if (port.empty()) return false;
    }
  } else if (const size_t colon = s.find(':'); colon != std::string_view::npos) {
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (port.empty()) return false;
  }
  if (host.empty() || host == "[]") return false;
  if (port.empty()) return true;
  if (port.size() > 5) return false;
  int value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return value >= 1 && value <= 65535;
}

}  // namespace

std::string ProcessEnv(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

Result<Config, std::string> ConfigFromEnvironment(std::string_view endpoint, bool path_style,
                                                  const Getenv& getenv) {
  Config config;
  config.path_style = path_style;
  config.region = getenv("AWS_REGION");
  if (config.region.empty()) config.region = getenv("AWS_DEFAULT_REGION");
  if (config.region.empty()) config.region = "us-east-1";
  if (endpoint.empty()) {
    config.host = "s3." + config.region + ".amazonaws.com";
  } else {
    const size_t colon = endpoint.find("://");
    if (colon == std::string_view::npos) {
      return "--s3-endpoint '" + std::string(endpoint) + "' is not http(s)://HOST[:PORT]";
    }
    config.scheme = std::string(endpoint.substr(0, colon));
    std::string_view rest = endpoint.substr(colon + 3);
    while (rest.ends_with('/')) rest.remove_suffix(1);
    if ((config.scheme != "http" && config.scheme != "https") || rest.empty() ||
        rest.find_first_of("/?#@ ") != std::string_view::npos) {
      return "--s3-endpoint '" + std::string(endpoint) +
             "' is not http(s)://HOST[:PORT] (no path, no user)";
    }
    if (!IsHostPort(rest)) {
      return "--s3-endpoint '" + std::string(endpoint) +
             "' is not http(s)://HOST[:PORT] (a port is 1-65535)";
    }
    config.host = std::string(rest);
  }
  config.access_key_id = getenv("AWS_ACCESS_KEY_ID");
  config.secret_access_key = getenv("AWS_SECRET_ACCESS_KEY");
  config.session_token = getenv("AWS_SESSION_TOKEN");
  if (config.access_key_id.empty() || config.secret_access_key.empty()) {
    return std::string("S3 needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment");
  }
  return config;
}

bool IsValidBucketName(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) return false;
  const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  for (char c : name) {
    if (!alnum(c) && c != '.' && c != '-') return false;
  }
  return alnum(name.front()) && alnum(name.back()) && name.find("..") == std::string_view::npos;
}

Target TargetOf(const Config& config, std::string_view bucket, std::string_view key,
                std::string_view raw_query) {
  Target target;
  const std::string encoded_key = sigv4::UriEncode(key, /*keep_slash=*/true);
  if (config.path_style) {
    target.host = config.host;
    target.path = "/" + std::string(bucket);
    if (!key.empty()) target.path += "/" + encoded_key;
  } else {
    target.host = std::string(bucket) + "." + config.host;
    target.path = "/" + encoded_key;
  }
  target.url = config.scheme + "://" + target.host + target.path;
  if (!raw_query.empty()) {
    target.url += '?';
    target.url += raw_query;
  }
  return target;
}

}  // namespace sluice::s3
