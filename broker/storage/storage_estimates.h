// Estimates of what live data costs in the broker's log, shared by the
// storage (storage.cc, storage_compaction.cc) and the compaction policy.
#ifndef SLUICE_BROKER_STORAGE_STORAGE_ESTIMATES_H_
#define SLUICE_BROKER_STORAGE_STORAGE_ESTIMATES_H_

#include <cstdint>

#include "broker/engine/stored_message.h"
#include "broker/engine/validation.h"

namespace sluice {

// What a live message or deduplication id costs in the log, near enough to
// time compactions: its body, attributes and ids, plus the fixed fields. An
// estimate too high only delays compactions; one too low could make them
// copy what they do not free, so the fixed part errs high (records take
// about 160 bytes besides body, attributes and ids).
constexpr uint64_t kMessageOverheadBytes = 256;
constexpr uint64_t kDedupOverheadBytes = 100;
// A queue's record, name and settings; a generous estimate.
constexpr uint64_t kQueueOverheadBytes = 1024;

inline uint64_t LiveBytes(const StoredMessage& m) {
  return kMessageOverheadBytes + m.body_size + MessageSize({}, m.attributes) + m.group_id.size() +
         m.deduplication_id.size();
}

}  // namespace sluice

#endif  // SLUICE_BROKER_STORAGE_STORAGE_ESTIMATES_H_
