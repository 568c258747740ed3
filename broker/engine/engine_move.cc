// The Engine's message move tasks: redrive from a dead-letter queue back to
// the queues its messages came from, or to a named queue, at a bounded rate.
#include <algorithm>

#include "broker/engine/engine.h"
#include "broker/engine/limits.h"

namespace sluice {

Status Engine::StartMessageMoveTask(const pb::StartMessageMoveTaskRequest& req,
                                    pb::StartMessageMoveTaskResponse* resp) {
  if (req.source_arn().empty()) return {StatusCode::kMissingParameter, "SourceArn is required"};
  const std::string source = QueueNameFromArnOrName(req.source_arn());
  auto q = FindQueue(source);
  if (!q.ok()) return q.status();
  const bool is_dead_letter_queue = std::any_of(queues_.begin(), queues_.end(), [&](auto& kv) {
    const auto& redrive = kv.second->config().redrive;
    return redrive && redrive->dead_letter_queue == source;
  });
  if (!is_dead_letter_queue) {
    return {StatusCode::kInvalidParameterValue,
            "the source queue '" + source + "' is not the dead-letter queue of any queue"};
  }
  std::string destination;
  if (!req.destination_arn().empty()) {
    destination = QueueNameFromArnOrName(req.destination_arn());
    auto d = FindQueue(destination);
    if (!d.ok()) return d.status();
    if ((*d)->fifo() != (*q)->fifo() || destination == source) {
      return {StatusCode::kInvalidParameterValue,
              "the destination must be another queue of the same type as the source"};
    }
  }
  const int rate = req.max_number_of_messages_per_second();
  if (rate < 0 || rate > limits::kMaxMoveTaskRate) {
    return {StatusCode::kInvalidParameterValue, limits::MoveTaskRateDetail()};
  }
  auto task = move_tasks_.Start(source, destination, rate, static_cast<int64_t>((*q)->visible()),
                                clock_->Now());
  if (!task.ok()) return task.status();
  resp->set_task_handle((*task)->handle);
  MoveTasksChanged();
  RunMoveTasks(clock_->Now());
  return Status::Ok();
}

Status Engine::CancelMessageMoveTask(const pb::CancelMessageMoveTaskRequest& req,
                                     pb::CancelMessageMoveTaskResponse* resp) {
  MoveTask* task = move_tasks_.FindRunning(req.task_handle());
  if (task == nullptr) {
    return {StatusCode::kResourceNotFound,
            "no running message move task has the handle '" + req.task_handle() + "'"};
  }
  task->status = "CANCELLED";
  MoveTasksChanged();
  resp->set_approximate_number_of_messages_moved(task->moved);
  return Status::Ok();
}

Status Engine::ListMessageMoveTasks(const pb::ListMessageMoveTasksRequest& req,
                                    pb::ListMessageMoveTasksResponse* resp) {
  const std::string source = QueueNameFromArnOrName(req.source_arn());
  auto q = FindQueue(source);
  if (!q.ok()) return q.status();
  const uint32_t max = req.max_results() == 0 ? 1 : req.max_results();
  if (max > static_cast<uint32_t>(limits::kMaxMoveTaskResults)) {
    return {StatusCode::kInvalidParameterValue, limits::MoveTaskResultsDetail()};
  }
  for (const MoveTask* t : move_tasks_.ListBySource(source, max)) {
    pb::MessageMoveTask* out = resp->add_results();
    if (t->running()) out->set_task_handle(t->handle);
    out->set_status(t->status);
    out->set_source_arn(options_.arns.Of(t->source));
    if (!t->destination.empty()) out->set_destination_arn(options_.arns.Of(t->destination));
    out->set_max_number_of_messages_per_second(t->rate);
    out->set_approximate_number_of_messages_moved(t->moved);
    out->set_approximate_number_of_messages_to_move(t->to_move);
    out->set_failure_reason(t->failure_reason);
    out->set_started_timestamp(t->started_at);
  }
  return Status::Ok();
}

void Engine::MoveTasksChanged() { journal_->MoveTasksChanged(); }

void Engine::RunMoveTasks(Millis now) {
  bool changed = false;
  for (MoveTask* task : move_tasks_.Running()) {
    Queue& source = *queues_.at(task->source);
    source.Advance(now);
    int64_t budget = task->to_move - task->moved;
    if (task->rate > 0) {
      // One at once, then `rate` a second.
      budget = std::min(budget, task->rate * (now - task->rate_origin) / 1000 + 1 -
                                    (task->moved - task->moved_at_origin));
    }
    budget = std::min<int64_t>(budget, limits::kMoveTaskChunk);
    std::vector<StoredMessage> batch =
        source.TakeVisible(static_cast<int>(std::max<int64_t>(budget, 0)));
    // The task's progress is recorded in the turn that moves its messages,
    // so that after a crash it neither moves them twice nor stops short.
    changed = changed || !batch.empty();
    for (StoredMessage& m : batch) {
      const std::string& target_name =
          task->destination.empty() ? m.dead_letter_source : task->destination;
      auto target = queues_.find(target_name);
      if (!task->running() || target == queues_.end()) {
        if (task->running()) {
          task->status = "FAILED";
          task->failure_reason = "the destination queue '" + target_name + "' does not exist";
        }
        source.Enqueue(std::move(m), 0, now);  // what the task did not move stays
        continue;
      }
      // Back in a live queue, the message starts afresh: new retention
      // period, no receives counted, no longer marked as dead-lettered.
      m.enqueued_at = now;
      m.receive_count = 0;
      m.first_received_at = 0;
      m.dead_letter_source.clear();
      target->second->Enqueue(std::move(m), 0, now);
      ++task->moved;
    }
    if (task->running() && (task->moved >= task->to_move || source.visible() == 0)) {
      task->status = "COMPLETED";
      changed = true;
    }
  }
  if (changed) MoveTasksChanged();
}

}  // namespace sluice
