#include "bench/latency.h"

#include <algorithm>
#include <limits>

namespace sluice::bench {
namespace {

// The value of rank ceil(q * n) in `v`, which it reorders.
double RankMillis(std::vector<uint32_t>* v, double q) {
  const size_t rank = static_cast<size_t>(q * static_cast<double>(v->size()) + 0.999999);
  const size_t index = std::clamp<size_t>(rank, 1, v->size()) - 1;
  std::nth_element(v->begin(), v->begin() + static_cast<std::ptrdiff_t>(index), v->end());
  return (*v)[index] / 1000.0;
}

Percentiles PercentilesOf(std::vector<uint32_t> v) {
  Percentiles p;
  p.count = static_cast<int64_t>(v.size());
  if (v.empty()) return p;
  p.p50_ms = RankMillis(&v, 0.50);
  p.p99_ms = RankMillis(&v, 0.99);
  return p;
}

}  // namespace

void LatencyLog::Record(CallKind kind, std::chrono::steady_clock::duration took) {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(took).count();
  micros_[static_cast<int>(kind)].push_back(
      static_cast<uint32_t>(std::clamp<int64_t>(micros, 0, std::numeric_limits<uint32_t>::max())));
}

LatencySummary LatencySummary::Of(const std::vector<LatencyLog>& logs) {
  LatencySummary s;
  std::vector<uint32_t> all;
  for (int k = 0; k < kCallKinds; ++k) {
    std::vector<uint32_t> kind;
    for (const LatencyLog& log : logs) {
      kind.insert(kind.end(), log.micros_[k].begin(), log.micros_[k].end());
    }
    all.insert(all.end(), kind.begin(), kind.end());
    s.by_kind[k] = PercentilesOf(std::move(kind));
  }
  s.all = PercentilesOf(std::move(all));
  return s;
}

}  // namespace sluice::bench
