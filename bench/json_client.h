// The BenchClient of SQS's JSON 1.0 protocol (X-Amz-Target: AmazonSQS.<Op>),
// as the current AWS SDKs speak it, over one kept-alive HttpConnection.
// Unsigned: the server must not require signatures (no --credentials).
#ifndef SLUICE_BENCH_JSON_CLIENT_H_
#define SLUICE_BENCH_JSON_CLIENT_H_

#include <memory>
#include <string>

#include "bench/bench_client.h"

namespace sluice::bench {

// `endpoint` is http://HOST:PORT.
std::unique_ptr<BenchClient> NewJsonClient(const std::string& endpoint, const std::string& queue);

}  // namespace sluice::bench

#endif  // SLUICE_BENCH_JSON_CLIENT_H_
