// MoveTasks: the record of message move tasks (SQS's StartMessageMoveTask),
// which move the messages of a dead-letter queue back to where they came from.
// This class keeps the tasks' state; the Engine moves the messages.
#ifndef SLUICE_BROKER_ENGINE_MOVE_TASKS_H_
#define SLUICE_BROKER_ENGINE_MOVE_TASKS_H_

#include <cstdint>
#include <list>
#include <string>
#include <vector>

#include "broker/engine/limits.h"
#include "common/clock.h"
#include "common/status.h"

namespace sluice {

struct MoveTask {
  std::string handle;
  std::string source;       // queue name
  std::string destination;  // queue name; empty: each message's source queue
  int rate = 0;             // messages per second; 0: as fast as the broker goes
  int64_t moved = 0;
  int64_t to_move = 0;
  Millis started_at = 0;
  std::string status = "RUNNING";  // RUNNING, COMPLETED, CANCELLED or FAILED
  std::string failure_reason;
  // The rate counts from here: the start, or the restart that resumed the
  // task (time the broker was down is not owed); not recorded.
  Millis rate_origin = 0;
  int64_t moved_at_origin = 0;

  bool running() const { return status == "RUNNING"; }
};

class MoveTasks {
 public:
  // Starts a task; one task may run per source queue at a time.
  Result<MoveTask*> Start(const std::string& source, const std::string& destination, int rate,
                          int64_t to_move, Millis now);
  // The running task with this handle, or nullptr.
  MoveTask* FindRunning(const std::string& handle);
  // The tasks of a source queue, newest first, at most `max`.
  std::vector<const MoveTask*> ListBySource(const std::string& source, size_t max) const;
  std::vector<MoveTask*> Running();
  bool AnyRunning() const;
  // Forgets the tasks of a deleted queue; whether it had any.
  bool ForgetSource(const std::string& source);

  // Every task, newest first, and the number the next handle takes: what the
  // journal records.
  const std::list<MoveTask>& all() const { return tasks_; }
  uint64_t next_id() const { return next_id_; }
  // Recovery: takes the recorded tasks back; running ones go on.
  void Restore(std::list<MoveTask> tasks, uint64_t next_id);

 private:
  // Finished tasks a source keeps: as many as ListMessageMoveTasks can list.
  static constexpr size_t kHistoryPerSource = limits::kMaxMoveTaskResults;

  std::list<MoveTask> tasks_;  // newest first; pointers stay valid
  uint64_t next_id_ = 1;
};

}  // namespace sluice

#endif  // SLUICE_BROKER_ENGINE_MOVE_TASKS_H_
