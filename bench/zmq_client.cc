// The requests are built once and reused, as the batch's bodies are the same
// on every call: the load generator shares the broker's two cores, so what it
// spends building requests is taken from the broker.
#include "bench/zmq_client.h"

#include <string>
#include <vector>

#include "client/client.h"
#include "sluice.pb.h"

namespace sluice::bench {
namespace {

// The first failed entry of a batch answer, or a count that does not add up.
template <typename BatchResponse>
Status CheckEntries(const BatchResponse& r, int count) {
  if (r.failed_size() > 0) {
    const pb::BatchResultError& e = r.failed(0);
    const Status s = EntryStatus(e);
    return Status(s.code(), "entry " + e.id() + ": " + s.detail());
  }
  if (r.successful_size() != count) {
    return Status(StatusCode::kInternalError, std::to_string(r.successful_size()) +
                                                  " entries answered of " + std::to_string(count));
  }
  return Status::Ok();
}

class ZmqClient : public BenchClient {
 public:
  ZmqClient(const std::string& endpoint, const std::string& queue, const ClientOptions& options)
      : client_(endpoint, options), queue_(queue) {}

  Status CreateQueue() override {
    pb::CreateQueueRequest req;
    req.set_queue_name(queue_);
    auto r = client_.CreateQueue(req);
    if (!r.ok() && r.status().code() != StatusCode::kQueueNameExists) return r.status();
    return Status::Ok();
  }

  Status OpenQueue() override {
    pb::GetQueueUrlRequest req;
    req.set_queue_name(queue_);
    return client_.GetQueueUrl(req).status();
  }

  Status SendMessage(const std::string& body) override {
    if (single_.queue_name().empty() || single_.entry().body() != body) {
      single_.set_queue_name(queue_);
      single_.mutable_entry()->set_body(body);
    }
    return client_.SendMessage(single_).status();
  }

  Status SendMessageBatch(int count, const std::string& body) override {
    if (batch_.entries_size() != count || batch_.entries(0).body() != body) {
      batch_.Clear();
      batch_.set_queue_name(queue_);
      for (int i = 0; i < count; ++i) {
        pb::SendMessageEntry* e = batch_.add_entries();
        e->set_id(std::to_string(i));
        e->set_body(body);
      }
    }
    auto r = client_.SendMessageBatch(batch_);
    if (!r.ok()) return r.status();
    return CheckEntries(*r, count);
  }

  Status ReceiveMessage(int max_messages, int wait_seconds,
                        std::vector<ReceivedMessage>* out) override {
    pb::ReceiveMessageRequest req;
    req.set_queue_name(queue_);
    req.set_max_number_of_messages(max_messages);
    req.set_wait_time_seconds(wait_seconds);
    auto r = client_.ReceiveMessage(req);
    out->clear();
    if (!r.ok()) return r.status();
    for (pb::Message& m : *r->mutable_messages()) {
      out->push_back({std::move(*m.mutable_message_id()), std::move(*m.mutable_receipt_handle()),
                      m.body().size()});
    }
    return Status::Ok();
  }

  Status DeleteMessage(const std::string& receipt_handle) override {
    pb::DeleteMessageRequest req;
    req.set_queue_name(queue_);
    req.set_receipt_handle(receipt_handle);
    return client_.DeleteMessage(req).status();
  }

  Status DeleteMessageBatch(const std::vector<ReceivedMessage>& messages) override {
    pb::DeleteMessageBatchRequest req;
    req.set_queue_name(queue_);
    for (size_t i = 0; i < messages.size(); ++i) {
      pb::DeleteMessageBatchEntry* e = req.add_entries();
      e->set_id(std::to_string(i));
      e->set_receipt_handle(messages[i].receipt_handle);
    }
    auto r = client_.DeleteMessageBatch(req);
    if (!r.ok()) return r.status();
    return CheckEntries(*r, static_cast<int>(messages.size()));
  }

 private:
  Client client_;
  const std::string queue_;
  pb::SendMessageRequest single_;      // reused while the body is the same
  pb::SendMessageBatchRequest batch_;  // reused while the count and body are
};

}  // namespace

std::unique_ptr<BenchClient> NewZmqClient(const std::string& endpoint, const std::string& queue,
                                          const ClientOptions& options) {
  return std::make_unique<ZmqClient>(endpoint, queue, options);
}

}  // namespace sluice::bench
