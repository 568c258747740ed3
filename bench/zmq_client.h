// The ZeroMQ BenchClient: sluice::Client, the wire protocol of docs/protocol.md.
#ifndef SLUICE_BENCH_ZMQ_CLIENT_H_
#define SLUICE_BENCH_ZMQ_CLIENT_H_

#include <memory>
#include <string>

#include "bench/bench_client.h"
#include "client/client.h"

namespace sluice::bench {

// `endpoint` is tcp://HOST:PORT.
std::unique_ptr<BenchClient> NewZmqClient(const std::string& endpoint, const std::string& queue,
                                          const ClientOptions& options);

}  // namespace sluice::bench

#endif  // SLUICE_BENCH_ZMQ_CLIENT_H_
