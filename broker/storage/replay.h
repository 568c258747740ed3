// Replay: the log read back, record by record, into the latest state of
// everything it holds, which Storage::Recover then hands to the engine.
//
// Records apply in log order, each one by a function of its type
// (docs/storage.md, "Recovery"): a state record updates its message, a
// removal deletes it, a purge deletes the queue's messages below the
// position it records, a queue deletion drops the queue's messages and ids.
// A record about a message or id the log no longer holds is skipped: a
// compaction copied the message forward and deleted the segment of its
// older records, so what the copy carries is newer than they are.
#ifndef SLUICE_BROKER_STORAGE_REPLAY_H_
#define SLUICE_BROKER_STORAGE_REPLAY_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "broker/engine/dedup_window.h"
#include "broker/engine/stored_message.h"
#include "broker/storage/segment_log.h"
#include "common/status.h"
#include "storage.pb.h"

namespace sluice {

struct RecoveredState {
  bool has_meta = false;
  storage::BrokerMeta meta;
  std::map<uint64_t, storage::QueueRecord> queues;  // by incarnation
  // By queue incarnation and position.
  std::map<std::pair<uint64_t, uint64_t>, StoredMessage> messages;
  // By queue incarnation and id.
  std::map<std::pair<uint64_t, std::string>, DedupWindow::Entry> dedups;
  storage::MoveTasksRecord move_tasks;
};

// Applies `r` to `state`; fails with Corrupt() on a record it cannot read or
// of an unknown type.
Status ApplyRecord(const LogRecord& r, RecoveredState* state);

}  // namespace sluice

#endif  // SLUICE_BROKER_STORAGE_REPLAY_H_
