// Whether a listening address admits only this machine: what decides if the
// broker may serve without authentication (Redis's protected mode is the
// precedent). Loopback addresses (127.0.0.0/8, ::1, localhost) and ZeroMQ's
// ipc:// and inproc:// transports are local; a wildcard, an interface name
// or any other address is not.
#ifndef SLUICE_BROKER_SERVER_LISTEN_ADDRESS_H_
#define SLUICE_BROKER_SERVER_LISTEN_ADDRESS_H_

#include <string_view>

namespace sluice {

// A ZeroMQ endpoint: "tcp://127.0.0.1:7400", "ipc:///run/sluice.sock".
bool IsLocalZmqEndpoint(std::string_view endpoint);

// HOST:PORT, as --http-listen takes it: "127.0.0.1:9324", "[::1]:9324".
bool IsLocalHostPort(std::string_view host_port);

}  // namespace sluice

#endif  // SLUICE_BROKER_SERVER_LISTEN_ADDRESS_H_
