// The compaction policy: which run of the log's oldest segments a
// compaction takes, from the segments' sizes and what is live in them. A
// pure function, tested without files; the compactor
// (storage_compaction.cc) does the copying and the deleting.
//
// Messages are mostly consumed oldest first, so old segments die whole: a
// run of dead segments at the log's head goes with nothing to copy. Else
// live messages are copied from the longest run whose garbage outweighs
// what is live in it by the slack, so each compaction rewrites less than it
// frees, and a queue consumed in order, whose oldest segment is partly
// consumed and the rest live, is never copied. docs/storage.md gives the
// reasons.
#ifndef SLUICE_BROKER_STORAGE_COMPACTION_POLICY_H_
#define SLUICE_BROKER_STORAGE_COMPACTION_POLICY_H_

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <utility>

namespace sluice {

// A compaction frees at least this much, besides what it rewrites.
constexpr uint64_t kCompactMinGarbageBytes = 8ull << 20;

// The live messages whose bodies are in a segment: their estimated bytes
// (LiveBytes) and their number.
struct LiveInSegment {
  uint64_t bytes = 0;
  uint64_t messages = 0;
};
using LiveBySegment = std::map<uint32_t, LiveInSegment>;  // by segment number

struct LogSpace {
  // Each segment's number and bytes, oldest first; the last one is the one
  // appended to.
  std::span<const std::pair<uint32_t, uint64_t>> segments;
  const LiveBySegment* live = nullptr;
  uint64_t dedup_bytes = 0;  // estimated, of the live deduplication ids
  size_t queues = 0;
  uint64_t copy_slack_bytes = 0;  // StorageOptions::copy_slack_bytes
};

struct CompactionRun {
  uint32_t boundary;    // the run is the segments up to this one
  uint64_t copy_bytes;  // what it copies forward: live messages and every deduplication id
};

// The run to compact, or none when no run is worth it.
std::optional<CompactionRun> PickCompactionRun(const LogSpace& log);

}  // namespace sluice

#endif  // SLUICE_BROKER_STORAGE_COMPACTION_POLICY_H_
