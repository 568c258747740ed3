// S3Config: where a client finds S3 and how it signs, configured the AWS way.
//
// The endpoint is --s3-endpoint ("http://127.0.0.1:7480" for RGW or MinIO);
// without one it is AWS's regional endpoint, https://s3.<region>.amazonaws.com.
// Credentials and region come from the environment, as every AWS tool reads
// them: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (for
// temporary credentials), AWS_REGION (else AWS_DEFAULT_REGION, else
// us-east-1).
//
// Requests are virtual-host style (http://BUCKET.host/KEY) as AWS prefers,
// or path style (http://host/BUCKET/KEY), which MinIO and RGW serve without
// wildcard DNS, when asked for.
#ifndef SLUICE_COMMON_S3_CONFIG_H_
#define SLUICE_COMMON_S3_CONFIG_H_

#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sluice::s3 {

struct Config {
  std::string scheme = "https";  // of the endpoint
  std::string host;              // "s3.us-east-1.amazonaws.com", "127.0.0.1:7480"
  std::string region = "us-east-1";
  bool path_style = false;
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless the credentials are temporary
};

// Reads a variable of the environment; empty when unset. A parameter so that
// tests need not change the process's environment.
using Getenv = std::function<std::string(const char* name)>;
std::string ProcessEnv(const char* name);

// The configuration for `endpoint` (empty: AWS) from the environment. An
// error names what is wrong: an endpoint that is not http(s)://HOST[:PORT],
// or missing credentials.
Result<Config, std::string> ConfigFromEnvironment(std::string_view endpoint, bool path_style,
                                                  const Getenv& getenv = ProcessEnv);

// Whether `name` is a bucket name S3 accepts (3-63 characters of a-z, 0-9,
// '.' and '-', starting and ending with a letter or digit): checked before a
// name goes into a host name or a path.
bool IsValidBucketName(std::string_view name);

// Where a request for `key` in `bucket` goes ("" for the bucket itself).
struct Target {
  std::string url;   // scheme://host/path?query
  std::string host;  // the Host header's value
  std::string path;  // as sent, percent-encoded: what SigV4 signs for S3
};
Target TargetOf(const Config& config, std::string_view bucket, std::string_view key,
                std::string_view raw_query = "");

}  // namespace sluice::s3

#endif  // SLUICE_COMMON_S3_CONFIG_H_
