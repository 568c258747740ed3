#include "broker/server/listen_address.h"

#include <arpa/inet.h>

#include <string>

namespace sluice {
namespace {

bool IsLoopbackHost(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") return true;
  const std::string text(host);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, text.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

}  // namespace

bool IsLocalHostPort(std::string_view host_port) {
  const size_t colon = host_port.rfind(':');
  return colon != std::string_view::npos && IsLoopbackHost(host_port.substr(0, colon));
}

bool IsLocalZmqEndpoint(std::string_view endpoint) {
  if (endpoint.starts_with("ipc://") || endpoint.starts_with("inproc://")) return true;
  constexpr std::string_view kTcp = "tcp://";
  if (!endpoint.starts_with(kTcp)) return false;
  endpoint.remove_prefix(kTcp.size());
  // tcp://SOURCE;HOST:PORT names a connecting side's source: not ours here.
  if (endpoint.find(';') != std::string_view::npos) return false;
  return IsLocalHostPort(endpoint);
}

}  // namespace sluice
