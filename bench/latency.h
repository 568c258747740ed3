// Request latencies of a sluice-bench run. Each client thread records into a
// LatencyLog of its own (nothing shared while the clock runs); Summarize
// merges them once at the end into percentiles per kind of call.
//
// A latency is the time a BenchClient call took, from the request's start to
// its whole answer, as the calling thread saw it. Receives that found the
// queue empty are not recorded: they wait at the broker up to their long-poll
// time by design, so they would measure the workload's balance, not the
// broker.
#ifndef SLUICE_BENCH_LATENCY_H_
#define SLUICE_BENCH_LATENCY_H_

#include <chrono>
#include <cstdint>
#include <vector>

namespace sluice::bench {

enum class CallKind { kSend, kReceive, kDelete };
constexpr int kCallKinds = 3;

class LatencyLog {
 public:
  void Record(CallKind kind, std::chrono::steady_clock::duration took);

 private:
  friend struct LatencySummary;
  std::vector<uint32_t> micros_[kCallKinds];  // by CallKind
};

// Percentiles in milliseconds, nearest rank; 0 when no call was recorded.
struct Percentiles {
  double p50_ms = 0;
  double p99_ms = 0;
  int64_t count = 0;
};

struct LatencySummary {
  Percentiles all;
  Percentiles by_kind[kCallKinds];  // by CallKind

  static LatencySummary Of(const std::vector<LatencyLog>& logs);
};

}  // namespace sluice::bench

#endif  // SLUICE_BENCH_LATENCY_H_
