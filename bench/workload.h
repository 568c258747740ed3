// Workloads of sluice-bench: N client threads, each with its own BenchClient
// (one connection, over ZeroMQ or SQS's HTTP protocols), sending, receiving
// and deleting messages on one queue.
//
// - kSend: the threads share `messages` and send them in batches of `batch`
//   (SendMessageBatch; SendMessage when batch is 1).
// - kReceive: the threads receive up to `batch` at a time and delete what they
//   got (DeleteMessageBatch; DeleteMessage when batch is 1) until `messages`
//   have been deleted. The queue must already hold them.
// - kMixed: half the threads send `messages` while the other half receive and
//   delete them, concurrently; the time is until the last one is deleted.
//
// Any error answer (including a failed batch entry) stops every thread and
// is reported in WorkloadResult::error. Every call's latency is recorded
// (bench/latency.h).
#ifndef SLUICE_BENCH_WORKLOAD_H_
#define SLUICE_BENCH_WORKLOAD_H_

#include <cstdint>
#include <string>

#include "bench/bench_client.h"
#include "bench/latency.h"

namespace sluice::bench {

enum class Workload { kSend, kReceive, kMixed };

struct WorkloadOptions {
  Protocol protocol = Protocol::kZmq;
  std::string endpoint;  // as NewBenchClient takes it for `protocol`
  ClientOptions zmq_options;
  std::string queue;
  Workload workload = Workload::kSend;
  int threads = 8;
  int batch = 10;  // 1-10; 1 means the unbatched operations
  int64_t messages = 100'000;
  int body_bytes = 1024;
  double max_seconds = 600;  // the run fails when it takes longer
};

struct WorkloadResult {
  int64_t sent = 0;            // acknowledged sends
  int64_t received = 0;        // messages received
  int64_t deleted = 0;         // acknowledged deletes
  int64_t requests = 0;        // requests answered
  int64_t empty_receives = 0;  // receives that found the queue empty
  double seconds = 0;          // from the start to the last counted message
  double send_seconds = 0;     // from the start to the last send (0: not all sent)
  double cpu_seconds = 0;      // this process's user+system CPU during the run
  LatencySummary latency;      // of every answered call but empty receives
  std::string error;           // empty when every answer was a success
};

// Runs the workload against a broker whose queue exists.
WorkloadResult RunWorkload(const WorkloadOptions& options);

}  // namespace sluice::bench

#endif  // SLUICE_BENCH_WORKLOAD_H_
