// The Engine's queue operations: create, delete, list, attributes, purge.
// Message operations are in engine_messages.cc, move tasks in engine_move.cc.
#include "broker/engine/engine.h"

#include <algorithm>

#include "broker/engine/limits.h"
#include "broker/engine/validation.h"

namespace sluice {
namespace {

AttributeMap ToAttributeMap(const google::protobuf::Map<std::string, std::string>& m) {
  return AttributeMap(m.begin(), m.end());
}

std::string Seconds(Millis ms) { return std::to_string(ms / 1000); }

// SQS's rules for tags: keys of 1-128 characters outside the reserved "aws:"
// prefix, values of up to 256, at most 50 per queue.
Status CheckTag(const std::string& key, const std::string& value) {
  if (key.empty() || key.size() > static_cast<size_t>(limits::kMaxTagKeyLength)) {
    return {StatusCode::kInvalidParameterValue,
            "tag keys are 1-" + std::to_string(limits::kMaxTagKeyLength) + " characters"};
  }
  if (key.starts_with("aws:")) {
    return {StatusCode::kInvalidParameterValue, "the tag key prefix aws: is reserved: " + key};
  }
  if (value.size() > static_cast<size_t>(limits::kMaxTagValueLength)) {
    return {StatusCode::kInvalidParameterValue, "tag values are at most " +
                                                    std::to_string(limits::kMaxTagValueLength) +
                                                    " characters (tag " + key + ")"};
  }
  return Status::Ok();
}

// `current` with `added` set on top, if the result keeps SQS's rules.
Result<TagMap> MergeTags(TagMap current,
                         const google::protobuf::Map<std::string, std::string>& added) {
  for (const auto& [key, value] : added) {
    if (Status s = CheckTag(key, value); !s.ok()) return s;
    current[key] = value;
  }
  if (current.size() > static_cast<size_t>(limits::kMaxTagsPerQueue)) {
    return Status(StatusCode::kInvalidParameterValue,
                  "a queue has at most " + std::to_string(limits::kMaxTagsPerQueue) + " tags");
  }
  return current;
}

}  // namespace

Engine::Engine(const Clock* clock, EngineOptions options)
    : clock_(clock),
      options_(options),
      journal_(options.journal != nullptr ? options.journal : &memory_journal_),
      rng_(options.seed),
      receipt_secret_(options.receipt_secret != 0 ? options.receipt_secret : rng_()),
      handles_(receipt_secret_) {}

Result<Queue*> Engine::FindQueue(const std::string& name) {
  auto it = queues_.find(name);
  if (it == queues_.end()) {
    return Status(StatusCode::kQueueDoesNotExist, "the queue '" + name + "' does not exist");
  }
  it->second->Advance(clock_->Now());
  return it->second.get();
}

Status Engine::CheckRedrivePolicy(const std::string& queue_name, const QueueConfig& config) const {
  if (!config.redrive) return Status::Ok();
  const std::string& dlq = config.redrive->dead_letter_queue;
  if (dlq == queue_name) {
    return {StatusCode::kInvalidParameterValue, "a queue cannot be its own dead-letter queue"};
  }
  auto it = queues_.find(dlq);
  if (it == queues_.end()) {
    return {StatusCode::kQueueDoesNotExist, "the dead-letter queue '" + dlq + "' does not exist"};
  }
  if (it->second->fifo() != config.fifo) {
    return {StatusCode::kInvalidParameterValue,
            "the dead-letter queue of a " + std::string(config.fifo ? "FIFO" : "standard") +
                " queue must be a " + (config.fifo ? "FIFO" : "standard") + " queue"};
  }
  return Status::Ok();
}

Status Engine::CreateQueue(const pb::CreateQueueRequest& req, pb::CreateQueueResponse*) {
  const std::string& name = req.queue_name();
  if (Status s = ValidateQueueName(name); !s.ok()) return s;
  AttributeMap attributes = ToAttributeMap(req.attributes());
  // A ".fifo" name makes a FIFO queue; FifoQueue=true may say so again.
  auto fifo_attr = attributes.find("FifoQueue");
  const bool fifo_name = IsFifoQueueName(name);
  if (fifo_attr == attributes.end() && fifo_name) attributes["FifoQueue"] = "true";
  QueueConfig config;
  if (Status s = ApplyAttributes(attributes, /*creating=*/true, &config); !s.ok()) return s;
  if (config.fifo != fifo_name) {
    return {StatusCode::kInvalidParameterValue,
            "a FIFO queue's name must end in .fifo, and only a FIFO queue's may"};
  }
  // An existing queue is compared as it is: its dead-letter queue may have
  // been deleted since, and that must not turn a repeated create into an error.
  auto it = queues_.find(name);
  if (it != queues_.end()) {
    if (it->second->config() == config) return Status::Ok();
    return {StatusCode::kQueueNameExists,
            "a queue named '" + name + "' already exists with other attributes"};
  }
  if (queues_.size() >= options_.max_queues) {
    return {StatusCode::kOverLimit, "the broker holds " + std::to_string(queues_.size()) +
                                        " queues, its limit (--max-queues): delete one first"};
  }
  if (Status s = CheckRedrivePolicy(name, config); !s.ok()) return s;
  Result<TagMap> tags = MergeTags({}, req.tags());
  if (!tags.ok()) return tags.status();
  auto q = std::make_unique<Queue>(name, next_incarnation_++, config, clock_->Now(), journal_);
  q->RestoreTags(std::move(*tags));  // reported below, with the queue
  journal_->QueueChanged(*q);
  queues_.emplace(name, std::move(q));
  return Status::Ok();
}

Status Engine::DeleteQueue(const pb::DeleteQueueRequest& req, pb::DeleteQueueResponse*) {
  auto it = queues_.find(req.queue_name());
  if (it == queues_.end()) {
    return {StatusCode::kQueueDoesNotExist, "the queue '" + req.queue_name() + "' does not exist"};
  }
  // Purging first reports the messages as gone, so their bodies' space is
  // counted as garbage for compaction (the queue is still there for the
  // journal to see), and hands them over to be freed a slice at a time.
  dropped_.push_back(it->second->Purge());
  journal_->QueueDeleted(*it->second);
  queues_.erase(it);
  if (move_tasks_.ForgetSource(req.queue_name())) MoveTasksChanged();
  return Status::Ok();
}

Status Engine::GetQueueUrl(const pb::GetQueueUrlRequest& req, pb::GetQueueUrlResponse*) {
  return FindQueue(req.queue_name()).status();
}

Status Engine::ListQueues(const pb::ListQueuesRequest& req, pb::ListQueuesResponse* resp) {
  const uint32_t max = req.max_results() == 0 ? limits::kMaxListQueuesResults : req.max_results();
  if (max > static_cast<uint32_t>(limits::kMaxListQueuesResults)) {
    return {StatusCode::kInvalidParameterValue, limits::ListQueuesResultsDetail()};
  }
  const std::string& prefix = req.queue_name_prefix();
  auto it = req.next_token().empty() ? queues_.lower_bound(prefix)
                                     : queues_.upper_bound(req.next_token());
  for (; it != queues_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    if (static_cast<uint32_t>(resp->queue_names_size()) == max) {
      resp->set_next_token(resp->queue_names(resp->queue_names_size() - 1));
      break;
    }
    resp->add_queue_names(it->first);
  }
  return Status::Ok();
}

Status Engine::GetQueueAttributes(const pb::GetQueueAttributesRequest& req,
                                  pb::GetQueueAttributesResponse* resp) {
  auto q = FindQueue(req.queue_name());
  if (!q.ok()) return q.status();
  const Queue& queue = **q;
  const Millis now = clock_->Now();
  AttributeMap all = ConfigAttributes(queue.config(), options_.arns);
  all["QueueArn"] = options_.arns.Of(queue.name());
  all["ApproximateNumberOfMessages"] = std::to_string(queue.visible());
  all["ApproximateNumberOfMessagesNotVisible"] = std::to_string(queue.in_flight());
  all["ApproximateNumberOfMessagesDelayed"] = std::to_string(queue.delayed());
  all["CreatedTimestamp"] = Seconds(queue.created_at());
  all["LastModifiedTimestamp"] = Seconds(queue.last_modified_at());
  all["ApproximateAgeOfOldestMessage"] = Seconds(queue.OldestMessageAge(now));

  const bool want_all = req.attribute_names().empty() ||
                        std::find(req.attribute_names().begin(), req.attribute_names().end(),
                                  "All") != req.attribute_names().end();
  auto* out = resp->mutable_attributes();
  if (want_all) {
    out->insert(all.begin(), all.end());
    return Status::Ok();
  }
  static const AttributeMap kEveryName = [] {
    QueueConfig fifo;
    fifo.fifo = true;
    fifo.redrive = RedrivePolicy{};
    return ConfigAttributes(fifo, ArnFormat{});
  }();
  for (const std::string& name : req.attribute_names()) {
    auto it = all.find(name);
    if (it != all.end()) {
      (*out)[name] = it->second;
    } else if (!kEveryName.contains(name)) {
      return {StatusCode::kInvalidAttributeName, "unknown attribute: " + name};
    }
  }
  return Status::Ok();
}

Status Engine::SetQueueAttributes(const pb::SetQueueAttributesRequest& req,
                                  pb::SetQueueAttributesResponse*) {
  auto q = FindQueue(req.queue_name());
  if (!q.ok()) return q.status();
  QueueConfig config = (*q)->config();
  if (Status s = ApplyAttributes(ToAttributeMap(req.attributes()), /*creating=*/false, &config);
      !s.ok()) {
    return s;
  }
  // Only a policy being set is checked: a source whose dead-letter queue was
  // deleted keeps its other attributes settable.
  if (req.attributes().contains("RedrivePolicy")) {
    if (Status s = CheckRedrivePolicy(req.queue_name(), config); !s.ok()) return s;
  }
  (*q)->SetConfig(config, clock_->Now());
  // A shorter retention period expires old messages now, not at the next request.
  (*q)->Advance(clock_->Now());
  return Status::Ok();
}

Status Engine::PurgeQueue(const pb::PurgeQueueRequest& req, pb::PurgeQueueResponse*) {
  auto q = FindQueue(req.queue_name());
  if (!q.ok()) return q.status();
  dropped_.push_back((*q)->Purge());
  return Status::Ok();
}

Status Engine::TagQueue(const pb::TagQueueRequest& req, pb::TagQueueResponse*) {
  auto q = FindQueue(req.queue_name());
  if (!q.ok()) return q.status();
  Result<TagMap> tags = MergeTags((*q)->tags(), req.tags());
  if (!tags.ok()) return tags.status();
  (*q)->SetTags(std::move(*tags));
  return Status::Ok();
}

Status Engine::UntagQueue(const pb::UntagQueueRequest& req, pb::UntagQueueResponse*) {
  auto q = FindQueue(req.queue_name());
  if (!q.ok()) return q.status();
  TagMap tags = (*q)->tags();
  for (const std::string& key : req.tag_keys()) tags.erase(key);
  (*q)->SetTags(std::move(tags));
  return Status::Ok();
}

Status Engine::ListQueueTags(const pb::ListQueueTagsRequest& req, pb::ListQueueTagsResponse* resp) {
  auto q = FindQueue(req.queue_name());
  if (!q.ok()) return q.status();
  resp->mutable_tags()->insert((*q)->tags().begin(), (*q)->tags().end());
  return Status::Ok();
}

Status Engine::ListDeadLetterSourceQueues(const pb::ListDeadLetterSourceQueuesRequest& req,
                                          pb::ListDeadLetterSourceQueuesResponse* resp) {
  auto dlq = FindQueue(req.queue_name());
  if (!dlq.ok()) return dlq.status();
  const uint32_t max = req.max_results() == 0 ? limits::kMaxListQueuesResults : req.max_results();
  if (max > static_cast<uint32_t>(limits::kMaxListQueuesResults)) {
    return {StatusCode::kInvalidParameterValue, limits::ListQueuesResultsDetail()};
  }
  // Pages follow the order of names, as ListQueues' do; a scan of every
  // queue, which is cheap next to how rarely this is asked.
  auto it = req.next_token().empty() ? queues_.begin() : queues_.upper_bound(req.next_token());
  for (; it != queues_.end(); ++it) {
    const auto& redrive = it->second->config().redrive;
    if (!redrive || redrive->dead_letter_queue != req.queue_name()) continue;
    if (static_cast<uint32_t>(resp->queue_names_size()) == max) {
      resp->set_next_token(resp->queue_names(resp->queue_names_size() - 1));
      break;
    }
    resp->add_queue_names(it->first);
  }
  return Status::Ok();
}

void Engine::FreeDroppedMessages(size_t budget) {
  while (!dropped_.empty() && budget > 0) {
    budget -= std::min(budget, dropped_.front()->FreeSome(budget));
    if (!dropped_.front()->empty()) return;
    dropped_.pop_front();
  }
}

Result<Millis> Engine::ReceiveWaitMs(const pb::ReceiveMessageRequest& req) const {
  auto it = queues_.find(req.queue_name());
  if (it == queues_.end()) {
    return Status(StatusCode::kQueueDoesNotExist,
                  "the queue '" + req.queue_name() + "' does not exist");
  }
  if (!req.has_wait_time_seconds()) return Millis{it->second->config().receive_wait_s} * 1000;
  if (req.wait_time_seconds() < 0 || req.wait_time_seconds() > limits::kMaxWaitTimeSeconds) {
    return Status(StatusCode::kInvalidParameterValue, limits::WaitTimeDetail());
  }
  return Millis{req.wait_time_seconds()} * 1000;
}

void Engine::Tick() {
  const Millis now = clock_->Now();
  for (auto& [name, q] : queues_) q->Advance(now);
  RunMoveTasks(now);
}

std::optional<Millis> Engine::NextWakeup(const std::string& queue_name) const {
  auto it = queues_.find(queue_name);
  if (it == queues_.end()) return std::nullopt;
  return it->second->NextTimer();
}

Queue* Engine::RestoreQueue(const std::string& name, uint64_t incarnation,
                            const QueueConfig& config, Millis created_at) {
  next_incarnation_ = std::max(next_incarnation_, incarnation + 1);
  auto q = std::make_unique<Queue>(name, incarnation, config, created_at, journal_);
  Queue* raw = q.get();
  queues_[name] = std::move(q);
  return raw;
}

void Engine::RestoreMoveTasks(std::list<MoveTask> tasks, uint64_t next_id) {
  tasks.remove_if([this](const MoveTask& t) { return !queues_.contains(t.source); });
  for (MoveTask& t : tasks) {
    t.rate_origin = clock_->Now();
    t.moved_at_origin = t.moved;
  }
  move_tasks_.Restore(std::move(tasks), next_id);
}

void Engine::ReserveIncarnations(uint64_t next) {
  next_incarnation_ = std::max(next_incarnation_, next);
}

void Engine::ForEachQueue(const std::function<void(const Queue&)>& fn) const {
  for (const auto& [name, q] : queues_) fn(*q);
}

}  // namespace sluice
