// BenchClient: the calls sluice-bench's workloads make on one queue, over one
// connection, whichever transport carries them: the ZeroMQ protocol
// (sluice::Client) or SQS's HTTP protocols (JSON 1.0 or query). The workload
// code is the same for each, so their figures compare the transports alone.
//
// A BenchClient is used by one thread. A failed call returns the failure's
// Status; a batch with a failed or missing entry is a failed call, its detail
// naming the first such entry. No call throws.
#ifndef SLUICE_BENCH_BENCH_CLIENT_H_
#define SLUICE_BENCH_BENCH_CLIENT_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "client/client.h"
#include "common/status.h"

namespace sluice::bench {

enum class Protocol { kZmq, kJson, kQuery };

// The name --protocol takes: "zmq", "json" or "query".
const char* ProtocolName(Protocol protocol);

struct ReceivedMessage {
  std::string message_id;
  std::string receipt_handle;
  size_t body_bytes = 0;
};

class BenchClient {
 public:
  virtual ~BenchClient() = default;

  // Creates the queue with default attributes; an existing queue, whatever
  // its attributes, is used as it is.
  virtual Status CreateQueue() = 0;

  // Connects and checks that the queue exists (GetQueueUrl). The other calls
  // need it first.
  virtual Status OpenQueue() = 0;

  virtual Status SendMessage(const std::string& body) = 0;

  // Sends `count` (1-10) entries, ids "0".."count-1", each with `body`.
  virtual Status SendMessageBatch(int count, const std::string& body) = 0;

  // Receives up to `max_messages`, waiting up to `wait_seconds` at the broker
  // when the queue is empty; `*out` is replaced by what arrived.
  virtual Status ReceiveMessage(int max_messages, int wait_seconds,
                                std::vector<ReceivedMessage>* out) = 0;

  virtual Status DeleteMessage(const std::string& receipt_handle) = 0;

  // Deletes `messages` (1-10), ids "0".."n-1".
  virtual Status DeleteMessageBatch(const std::vector<ReceivedMessage>& messages) = 0;
};

// A client of `queue` at `endpoint`: tcp://HOST:PORT for kZmq, http://HOST:PORT
// for kJson and kQuery. It connects at its first call; `zmq_options` (CURVE
// keys) are kZmq's.
std::unique_ptr<BenchClient> NewBenchClient(Protocol protocol, const std::string& endpoint,
                                            const std::string& queue,
                                            const ClientOptions& zmq_options);

}  // namespace sluice::bench

#endif  // SLUICE_BENCH_BENCH_CLIENT_H_
