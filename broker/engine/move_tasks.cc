#include "broker/engine/move_tasks.h"

#include <algorithm>

namespace sluice {

Result<MoveTask*> MoveTasks::Start(const std::string& source, const std::string& destination,
                                   int rate, int64_t to_move, Millis now) {
  size_t kept = 0;
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    if (it->source != source) {
      ++it;
      continue;
    }
    if (it->running()) {
      return Status(StatusCode::kInvalidParameterValue,
                    "a message move task is already running for " + source);
    }
    // Keep room for the new task within the history.
    it = ++kept >= kHistoryPerSource ? tasks_.erase(it) : std::next(it);
  }
  MoveTask task;
  task.handle = "mt-" + std::to_string(next_id_++) + "-" + source;
  task.source = source;
  task.destination = destination;
  task.rate = rate;
  task.to_move = to_move;
  task.started_at = now;
  task.rate_origin = now;
  tasks_.push_front(std::move(task));
  return &tasks_.front();
}

MoveTask* MoveTasks::FindRunning(const std::string& handle) {
  for (MoveTask& t : tasks_) {
    if (t.handle == handle && t.running()) return &t;
  }
  return nullptr;
}

std::vector<const MoveTask*> MoveTasks::ListBySource(const std::string& source, size_t max) const {
  std::vector<const MoveTask*> out;
  for (const MoveTask& t : tasks_) {
    if (out.size() >= max) break;
    if (t.source == source) out.push_back(&t);
  }
  return out;
}

std::vector<MoveTask*> MoveTasks::Running() {
  std::vector<MoveTask*> out;
  for (MoveTask& t : tasks_) {
    if (t.running()) out.push_back(&t);
  }
  return out;
}

bool MoveTasks::AnyRunning() const {
  for (const MoveTask& t : tasks_) {
    if (t.running()) return true;
  }
  return false;
}

bool MoveTasks::ForgetSource(const std::string& source) {
  return tasks_.remove_if([&](const MoveTask& t) { return t.source == source; }) > 0;
}

void MoveTasks::Restore(std::list<MoveTask> tasks, uint64_t next_id) {
  tasks_ = std::move(tasks);
  next_id_ = std::max(next_id_, next_id);
}

}  // namespace sluice
