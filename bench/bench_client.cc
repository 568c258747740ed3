#include "bench/bench_client.h"

#include "bench/json_client.h"
#include "bench/query_client.h"
#include "bench/zmq_client.h"

namespace sluice::bench {

const char* ProtocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kZmq:
      return "zmq";
    case Protocol::kJson:
      return "json";
    case Protocol::kQuery:
      return "query";
  }
  return "?";
}

std::unique_ptr<BenchClient> NewBenchClient(Protocol protocol, const std::string& endpoint,
                                            const std::string& queue,
                                            const ClientOptions& zmq_options) {
  switch (protocol) {
    case Protocol::kZmq:
      return NewZmqClient(endpoint, queue, zmq_options);
    case Protocol::kJson:
      return NewJsonClient(endpoint, queue);
    case Protocol::kQuery:
      return NewQueryClient(endpoint, queue);
  }
  return nullptr;
}

}  // namespace sluice::bench
