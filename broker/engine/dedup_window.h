// DedupWindow: the deduplication ids a FIFO queue has seen in the last five
// minutes, with the message each one enqueued. An id stays remembered for the
// whole window even after its message is deleted, as in SQS.
#ifndef SLUICE_BROKER_ENGINE_DEDUP_WINDOW_H_
#define SLUICE_BROKER_ENGINE_DEDUP_WINDOW_H_

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <unordered_map>

#include "common/clock.h"

namespace sluice {

class DedupWindow {
 public:
  struct Entry {
    std::string message_id;
    uint64_t sequence_number = 0;
    Millis expires_at = 0;
  };

  explicit DedupWindow(Millis window_ms) : window_ms_(window_ms) {}

  // The earlier send with this id, or nullptr. Call Expire(now) first.
  const Entry* Find(const std::string& id) const;
  const Entry& Remember(const std::string& id, std::string message_id, uint64_t sequence_number,
                        Millis now);
  // Recovery: puts back an entry as it was recorded.
  void Restore(const std::string& id, const Entry& entry);
  // Forgets the ids whose window ended at or before `now`, telling
  // `forgotten` each id it forgets.
  void Expire(Millis now, const std::function<void(const std::string&)>& forgotten);
  size_t size() const { return entries_.size(); }
  void ForEach(const std::function<void(const std::string&, const Entry&)>& fn) const {
    for (const auto& [id, entry] : entries_) fn(id, entry);
  }

 private:
  Millis window_ms_;
  std::unordered_map<std::string, Entry> entries_;
  std::set<std::pair<Millis, std::string>> by_expiry_;  // oldest first
};

}  // namespace sluice

#endif  // SLUICE_BROKER_ENGINE_DEDUP_WINDOW_H_
