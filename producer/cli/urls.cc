#include "producer/cli/urls.h"

#include <charconv>
#include <string_view>

namespace sluice {
namespace {

constexpr std::string_view kTcpScheme = "tcp://";
constexpr std::string_view kIpcScheme = "ipc://";

bool IsPort(std::string_view text) {
  unsigned port = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  return ec == std::errc() && end == text.data() + text.size() && port >= 1 && port <= 65535;
}

}  // namespace

Status CheckBrokerEndpoint(const std::string& endpoint) {
  const std::string_view e = endpoint;
  if (e.starts_with(kIpcScheme) && e.size() > kIpcScheme.size()) return Status::Ok();
  if (e.starts_with(kTcpScheme)) {
    const std::string_view address = e.substr(kTcpScheme.size());
    const size_t colon = address.rfind(':');
    if (colon != std::string_view::npos && colon > 0 && IsPort(address.substr(colon + 1))) {
      return Status::Ok();
    }
  }
  return Status(
      StatusCode::kInvalidParameterValue,
      "\"" + endpoint + "\" is not a broker endpoint (expected tcp://HOST:PORT or ipc://PATH)");
}

std::string QueueUrl(const std::string& endpoint, const std::string& queue_name) {
  return endpoint + "/" + queue_name;
}

Result<std::string> QueueNameFromUrl(const std::string& url) {
  const size_t slash = url.rfind('/');
  std::string name = slash == std::string::npos ? url : url.substr(slash + 1);
  if (name.empty()) {
    return Status(StatusCode::kInvalidParameterValue,
                  "\"" + url + "\" names no queue (expected <endpoint>/<queue name>)");
  }
  return name;
}

}  // namespace sluice
