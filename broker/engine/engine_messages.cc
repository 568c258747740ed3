// The Engine's message operations: send, receive, delete, change visibility.
#include <algorithm>
#include <cstdio>

#include "broker/engine/engine.h"
#include "broker/engine/limits.h"
#include "broker/engine/validation.h"
#include "common/digest.h"
#include "common/wire_error.h"

namespace sluice {
namespace {

// SQS prints sequence numbers as large decimal strings; zero-padding to 20
// digits keeps them in order when compared as text too.
std::string FormatSequenceNumber(uint64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(n));
  return buf;
}

bool Contains(const google::protobuf::RepeatedPtrField<std::string>& names,
              const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// MessageAttributeNames: "All", ".*", "prefix.*" or exact names.
bool WantsMessageAttribute(const google::protobuf::RepeatedPtrField<std::string>& filters,
                           const std::string& name) {
  for (const std::string& f : filters) {
    if (f == "All" || f == ".*" || f == name) return true;
    if (f.size() > 2 && f.ends_with(".*") && name.starts_with(f.substr(0, f.size() - 1))) {
      return true;
    }
  }
  return false;
}

const std::vector<std::string>& SystemAttributeNames() {
  static const std::vector<std::string> kNames = {
      "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp",
      "SentTimestamp",           "SenderId",
      "MessageGroupId",          "MessageDeduplicationId",
      "SequenceNumber",          "DeadLetterQueueSourceArn"};
  return kNames;
}

Status CheckVisibilityTimeout(int timeout_s) {
  if (timeout_s < 0 || timeout_s > limits::kMaxVisibilityTimeoutSeconds) {
    return {StatusCode::kInvalidParameterValue, limits::VisibilityTimeoutDetail()};
  }
  return Status::Ok();
}

template <typename BatchResponse>
void AddFailure(BatchResponse* resp, const std::string& id, const Status& s) {
  pb::BatchResultError* f = resp->add_failed();
  f->set_id(id);
  f->set_code(ToWire(s.code()));
  f->set_detail(s.detail());
  f->set_sender_fault(IsSenderFault(s.code()));
}

}  // namespace

std::string Engine::NewMessageId() {
  // A version-4 UUID from the engine's seeded generator.
  const uint64_t hi = (rng_() & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  const uint64_t lo = (rng_() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  // 8-4-4-4-12 hex digits.
  std::string id(36, '-');
  int at = 0;
  auto hex = [&](uint64_t v, int digits) {
    for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) {
      id[at++] = "0123456789abcdef"[(v >> shift) & 0xf];
    }
    ++at;  // the dash
  };
  hex(hi >> 32, 8);
  hex(hi >> 16, 4);
  hex(hi, 4);
  hex(lo >> 48, 4);
  hex(lo, 12);
  return id;
}

Status Engine::SendOne(Queue& q, const pb::SendMessageEntry& e, std::string md5_of_body,
                       pb::SendMessageResult* result) {
  if (Status s = ValidateBody(e.body()); !s.ok()) return s;
  if (Status s = ValidateMessageAttributes(e.message_attributes()); !s.ok()) return s;
  const int64_t size = MessageSize(e.body(), e.message_attributes());
  if (size > q.config().max_message_size) {
    return {StatusCode::kMessageTooLong,
            limits::MessageSizeDetail(size, q.config().max_message_size)};
  }
  int delay_s = q.config().delay_s;
  if (e.has_delay_seconds()) {
    if (q.fifo()) {
      return {StatusCode::kInvalidParameterValue,
              "FIFO queues take a delay only as the queue's DelaySeconds, not per message"};
    }
    if (e.delay_seconds() < 0 || e.delay_seconds() > limits::kMaxDelaySeconds) {
      return {StatusCode::kInvalidParameterValue, limits::DelayDetail()};
    }
    delay_s = e.delay_seconds();
  }

  const Millis now = clock_->Now();
  StoredMessage m;
  // On a standard queue a deduplication id is a Sluice extension
  // (docs/protocol.md): it makes the send idempotent for the window, which is
  // how a producer killed between a send and recording it avoids a second
  // copy. SQS rejects the parameter there.
  if (!e.message_deduplication_id().empty()) {
    if (Status s = ValidateFifoId("MessageDeduplicationId", e.message_deduplication_id());
        !s.ok()) {
      return s;
    }
    m.deduplication_id = e.message_deduplication_id();
  }
  if (q.fifo()) {
    if (e.message_group_id().empty()) {
      return {StatusCode::kMissingParameter,
              "a message sent to a FIFO queue needs a MessageGroupId"};
    }
    if (Status s = ValidateFifoId("MessageGroupId", e.message_group_id()); !s.ok()) return s;
    if (m.deduplication_id.empty() && q.config().content_based_deduplication) {
      m.deduplication_id = Sha256Hex(e.body());
    } else if (m.deduplication_id.empty()) {
      return {StatusCode::kInvalidParameterValue,
              "the queue has no ContentBasedDeduplication, so a MessageDeduplicationId is needed"};
    }
    m.group_id = e.message_group_id();
  } else if (!e.message_group_id().empty()) {
    return {StatusCode::kInvalidParameterValue, "MessageGroupId is for FIFO queues only"};
  }
  if (const DedupWindow::Entry* dup =
          m.deduplication_id.empty() ? nullptr : q.FindDuplicate(m.deduplication_id)) {
    // Accepted but not enqueued again; the answer names the first send.
    result->set_message_id(dup->message_id);
    result->set_md5_of_message_body(std::move(md5_of_body));
    result->set_md5_of_message_attributes(MessageAttributesMd5(e.message_attributes()));
    if (q.fifo()) result->set_sequence_number(FormatSequenceNumber(dup->sequence_number));
    return Status::Ok();
  }

  m.message_id = NewMessageId();
  m.body = e.body();
  m.md5_of_body = std::move(md5_of_body);
  m.attributes = e.message_attributes();
  m.md5_of_attributes = MessageAttributesMd5(m.attributes);
  m.sent_at = now;
  m.enqueued_at = now;
  const StoredMessage& stored = q.Enqueue(std::move(m), Millis{delay_s} * 1000, now);
  if (!q.fifo() && !stored.deduplication_id.empty()) q.RememberDeduplicationId(stored, now);
  result->set_message_id(stored.message_id);
  result->set_md5_of_message_body(stored.md5_of_body);
  result->set_md5_of_message_attributes(stored.md5_of_attributes);
  if (q.fifo()) result->set_sequence_number(FormatSequenceNumber(stored.sequence_number));
  return Status::Ok();
}

Status Engine::SendMessage(const pb::SendMessageRequest& req, pb::SendMessageResponse* resp) {
  auto q = FindQueue(req.queue_name());
  if (!q.ok()) return q.status();
  return SendOne(**q, req.entry(), Md5Hex(req.entry().body()), resp->mutable_result());
}

Status Engine::SendMessageBatch(const pb::SendMessageBatchRequest& req,
                                pb::SendMessageBatchResponse* resp) {
  auto q = FindQueue(req.queue_name());
  if (!q.ok()) return q.status();
  if (Status s = ValidateBatchEntryIds(req.entries()); !s.ok()) return s;
  int64_t total = 0;
  for (const auto& e : req.entries()) total += MessageSize(e.body(), e.message_attributes());
  if (total > (*q)->config().max_message_size) {
    return {StatusCode::kBatchRequestTooLong,
            limits::BatchSizeDetail(total, (*q)->config().max_message_size)};
  }
  // The bodies' digests are made together, several at a time (md5_lanes.h).
  std::vector<std::string_view> bodies;
  bodies.reserve(static_cast<size_t>(req.entries_size()));
  for (const auto& e : req.entries()) bodies.push_back(e.body());
  std::vector<std::string> md5s = Md5HexMany(bodies);
  for (int i = 0; i < req.entries_size(); ++i) {
    const pb::SendMessageEntry& e = req.entries(i);
    pb::SendMessageResult result;
    Status s = SendOne(**q, e, std::move(md5s[static_cast<size_t>(i)]), &result);
    if (s.ok()) {
      result.set_id(e.id());
      *resp->add_successful() = std::move(result);
    } else {
      AddFailure(resp, e.id(), s);
    }
  }
  return Status::Ok();
}

void Engine::MoveToDeadLetterQueue(const Queue& source, StoredMessage m, Millis now) {
  Queue& dlq = *queues_.at(source.config().redrive->dead_letter_queue);
  // A standard dead-letter queue keeps the original enqueue time for
  // retention; a FIFO one starts it again, as SQS does. The receive count
  // starts again so a dead-letter queue with its own redrive policy counts
  // its own receives.
  if (dlq.fifo()) m.enqueued_at = now;
  m.receive_count = 0;
  m.first_received_at = 0;
  m.dead_letter_source = source.name();
  dlq.Enqueue(std::move(m), 0, now);
}

Status Engine::ReceiveMessage(const pb::ReceiveMessageRequest& req,
                              pb::ReceiveMessageResponse* resp) {
  auto q = FindQueue(req.queue_name());
  if (!q.ok()) return q.status();
  Queue& queue = **q;
  // Compared unsigned: a huge count must be refused, not wrap to a negative int.
  const uint32_t requested = req.max_number_of_messages() == 0 ? 1 : req.max_number_of_messages();
  if (requested > static_cast<uint32_t>(limits::kMaxReceiveMessages)) {
    return {StatusCode::kInvalidParameterValue, limits::ReceiveMessagesDetail()};
  }
  const int max = static_cast<int>(requested);
  const int visibility_s =
      req.has_visibility_timeout() ? req.visibility_timeout() : queue.config().visibility_timeout_s;
  if (Status s = CheckVisibilityTimeout(visibility_s); !s.ok()) return s;
  for (const std::string& name : req.attribute_names()) {
    if (name != "All" && !std::ranges::count(SystemAttributeNames(), name)) {
      return {StatusCode::kInvalidAttributeName, "unknown message system attribute: " + name};
    }
  }
  if (auto wait = ReceiveWaitMs(req); !wait.ok()) return wait.status();

  const int room = options_.inflight_limit - static_cast<int>(queue.in_flight());
  if (room <= 0) {
    return {StatusCode::kOverLimit, limits::InflightDetail(queue.in_flight())};
  }
  // Dead-lettering needs a dead-letter queue that exists now; without one,
  // messages stay and keep being delivered, as in SQS.
  int max_receive_count = 0;
  if (const auto& redrive = queue.config().redrive;
      redrive && queues_.contains(redrive->dead_letter_queue)) {
    max_receive_count = redrive->max_receive_count;
  }
  const Millis now = clock_->Now();
  const Millis visibility_ms = Millis{visibility_s} * 1000;
  std::vector<const StoredMessage*> delivered;
  // A FIFO receive retried with its attempt id gets the messages it was
  // given, those still in flight under that receive, with their visibility
  // timeout started again; SQS ignores the id on standard queues.
  const std::string& attempt_id = req.receive_request_attempt_id();
  const bool attempt = queue.fifo() && !attempt_id.empty();
  if (attempt) {
    if (Status s = ValidateFifoId("ReceiveRequestAttemptId", attempt_id); !s.ok()) return s;
    if (const auto* prior = queue.receive_attempts().Find(attempt_id, now)) {
      for (const ReceiveAttempts::Delivery& d : *prior) {
        const StoredMessage* m = queue.Find(d.seq);
        if (m == nullptr || m->state != MessageState::kInFlight ||
            m->receipt_seq != d.receipt_seq) {
          continue;
        }
        queue.ChangeVisibility(d.seq, visibility_ms, now);
        delivered.push_back(m);
      }
    }
  }
  if (delivered.empty()) {
    std::vector<StoredMessage> dead_lettered;
    queue.Receive(std::min(max, room), visibility_ms, max_receive_count, now, &delivered,
                  &dead_lettered);
    for (StoredMessage& m : dead_lettered) MoveToDeadLetterQueue(queue, std::move(m), now);
    if (attempt) {
      std::vector<ReceiveAttempts::Delivery> deliveries;
      for (const StoredMessage* m : delivered) deliveries.push_back({m->seq, m->receipt_seq});
      queue.receive_attempts().Remember(attempt_id, std::move(deliveries), now);
    }
  }
  std::vector<Journal::BodyRead> body_reads;
  for (const StoredMessage* m : delivered) {
    FillMessage(queue, *m, req, resp->add_messages(), &body_reads);
  }
  if (!body_reads.empty()) {
    journal_->ReadBodies(body_reads);
    // A body that could not be read (the journal logged it) is not delivered
    // empty: its message stays in flight, comes back after its visibility
    // timeout and counts the receive towards its dead-letter queue.
    auto* messages = resp->mutable_messages();
    messages->erase(std::remove_if(messages->begin(), messages->end(),
                                   [](const pb::Message& m) { return m.body().empty(); }),
                    messages->end());
  }
  return Status::Ok();
}

void Engine::FillMessage(const Queue& q, const StoredMessage& m,
                         const pb::ReceiveMessageRequest& req, pb::Message* out,
                         std::vector<Journal::BodyRead>* body_reads) const {
  out->set_message_id(m.message_id);
  out->set_receipt_handle(handles_.Encode({q.incarnation(), m.seq, m.receipt_seq}));
  out->set_md5_of_body(m.md5_of_body);
  // Bodies are never empty, so an empty one is held by the journal's storage.
  if (m.body.empty()) {
    body_reads->push_back({&m, out->mutable_body()});
  } else {
    out->set_body(m.body);
  }

  const bool all = Contains(req.attribute_names(), "All");
  auto want = [&](const std::string& name) { return all || Contains(req.attribute_names(), name); };
  auto& attrs = *out->mutable_attributes();
  if (want("ApproximateReceiveCount"))
    attrs["ApproximateReceiveCount"] = std::to_string(m.receive_count);
  if (want("SentTimestamp")) attrs["SentTimestamp"] = std::to_string(m.sent_at);
  if (want("ApproximateFirstReceiveTimestamp")) {
    attrs["ApproximateFirstReceiveTimestamp"] = std::to_string(m.first_received_at);
  }
  if (want("SenderId")) attrs["SenderId"] = "sluice";
  if (q.fifo()) {
    if (want("MessageGroupId")) attrs["MessageGroupId"] = m.group_id;
    if (want("MessageDeduplicationId")) attrs["MessageDeduplicationId"] = m.deduplication_id;
    if (want("SequenceNumber")) attrs["SequenceNumber"] = FormatSequenceNumber(m.sequence_number);
  }
  if (!m.dead_letter_source.empty() && want("DeadLetterQueueSourceArn")) {
    attrs["DeadLetterQueueSourceArn"] = options_.arns.Of(m.dead_letter_source);
  }

  auto& out_attrs = *out->mutable_message_attributes();
  for (const auto& [name, value] : m.attributes) {
    if (WantsMessageAttribute(req.message_attribute_names(), name)) out_attrs[name] = value;
  }
  if (!out_attrs.empty()) out->set_md5_of_message_attributes(MessageAttributesMd5(out_attrs));
}

Status Engine::ResolveHandle(const Queue& q, const std::string& receipt_handle, uint64_t* seq,
                             bool* gone) const {
  auto h = handles_.Decode(receipt_handle);
  if (!h || h->queue_incarnation != q.incarnation()) {
    return {
        StatusCode::kReceiptHandleIsInvalid,
        "the receipt handle '" + receipt_handle.substr(0, 100) + "' was not issued by this queue"};
  }
  const StoredMessage* m = q.Find(h->message_seq);
  *gone = m == nullptr;
  if (m != nullptr && m->receipt_seq != h->receipt_seq) {
    return {StatusCode::kStaleReceiptHandle,
            "the message was received again since this receipt handle was issued"};
  }
  *seq = h->message_seq;
  return Status::Ok();
}

Status Engine::DeleteOne(Queue& q, const std::string& receipt_handle) {
  uint64_t seq = 0;
  bool gone = false;
  if (Status s = ResolveHandle(q, receipt_handle, &seq, &gone); !s.ok()) return s;
  // Deleting a message that is already gone succeeds, as in SQS: a consumer
  // that retries a delete whose answer it lost must not see an error.
  if (!gone) q.Delete(seq);
  return Status::Ok();
}

Status Engine::DeleteMessage(const pb::DeleteMessageRequest& req, pb::DeleteMessageResponse*) {
  auto q = FindQueue(req.queue_name());
  if (!q.ok()) return q.status();
  return DeleteOne(**q, req.receipt_handle());
}

Status Engine::DeleteMessageBatch(const pb::DeleteMessageBatchRequest& req,
                                  pb::DeleteMessageBatchResponse* resp) {
  auto q = FindQueue(req.queue_name());
  if (!q.ok()) return q.status();
  if (Status s = ValidateBatchEntryIds(req.entries()); !s.ok()) return s;
  for (const auto& e : req.entries()) {
    Status s = DeleteOne(**q, e.receipt_handle());
    if (s.ok()) {
      resp->add_successful()->set_id(e.id());
    } else {
      AddFailure(resp, e.id(), s);
    }
  }
  return Status::Ok();
}

Status Engine::ChangeVisibilityOne(Queue& q, const std::string& receipt_handle, int timeout_s) {
  if (Status s = CheckVisibilityTimeout(timeout_s); !s.ok()) return s;
  uint64_t seq = 0;
  bool gone = false;
  if (Status s = ResolveHandle(q, receipt_handle, &seq, &gone); !s.ok()) return s;
  if (gone) return {StatusCode::kMessageNotInflight, "the message is no longer in the queue"};
  const StoredMessage& m = *q.Find(seq);
  if (m.state != MessageState::kInFlight) {
    return {StatusCode::kMessageNotInflight,
            "the message's visibility timeout has already run out"};
  }
  const Millis now = clock_->Now();
  const Millis timeout_ms = Millis{timeout_s} * 1000;
  if (now + timeout_ms - m.received_at > Millis{limits::kMaxVisibilityTimeoutSeconds} * 1000) {
    return {StatusCode::kInvalidParameterValue, limits::InvisibleSinceReceiveDetail()};
  }
  q.ChangeVisibility(seq, timeout_ms, now);
  return Status::Ok();
}

Status Engine::ChangeMessageVisibility(const pb::ChangeMessageVisibilityRequest& req,
                                       pb::ChangeMessageVisibilityResponse*) {
  auto q = FindQueue(req.queue_name());
  if (!q.ok()) return q.status();
  return ChangeVisibilityOne(**q, req.receipt_handle(), req.visibility_timeout());
}

Status Engine::ChangeMessageVisibilityBatch(const pb::ChangeMessageVisibilityBatchRequest& req,
                                            pb::ChangeMessageVisibilityBatchResponse* resp) {
  auto q = FindQueue(req.queue_name());
  if (!q.ok()) return q.status();
  if (Status s = ValidateBatchEntryIds(req.entries()); !s.ok()) return s;
  for (const auto& e : req.entries()) {
    Status s = ChangeVisibilityOne(**q, e.receipt_handle(), e.visibility_timeout());
    if (s.ok()) {
      resp->add_successful()->set_id(e.id());
    } else {
      AddFailure(resp, e.id(), s);
    }
  }
  return Status::Ok();
}

}  // namespace sluice
