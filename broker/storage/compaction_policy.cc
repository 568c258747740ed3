#include "broker/storage/compaction_policy.h"

#include <algorithm>

#include "broker/storage/storage_estimates.h"

namespace sluice {

std::optional<CompactionRun> PickCompactionRun(const LogSpace& log) {
  const LiveBySegment& live = *log.live;
  // Every compaction rewrites the queue records and deduplication ids: it
  // must free more, or an idle broker with many queues would compact its
  // own rewrites forever.
  const uint64_t worth_it =
      kCompactMinGarbageBytes + log.dedup_bytes + log.queues * kQueueOverheadBytes;
  std::optional<CompactionRun> run;
  // The dead segments at the head of the log.
  uint64_t dead_bytes = 0;
  for (const auto& [number, bytes] : log.segments) {
    auto it = live.find(number);
    if (it != live.end() && it->second.messages > 0) break;
    dead_bytes += bytes;
    if (dead_bytes >= worth_it) run = CompactionRun{number, log.dedup_bytes};
  }
  if (run) return run;
  // Else the longest run of oldest segments whose garbage is more, by the
  // slack, than what must be copied: its live messages and every
  // deduplication id.
  uint64_t run_bytes = 0, run_live = 0;
  for (const auto& [number, bytes] : log.segments) {
    run_bytes += bytes;
    if (auto it = live.find(number); it != live.end()) run_live += it->second.bytes;
    const uint64_t run_garbage = run_bytes - std::min(run_bytes, run_live);
    if (run_garbage >= run_live + log.dedup_bytes + log.copy_slack_bytes &&
        run_garbage >= worth_it) {
      run = CompactionRun{number, run_live + log.dedup_bytes};
    }
  }
  return run;
}

}  // namespace sluice
