// The dispatch target's seeds: sessions that a client could hold with the
// broker, as frames (targets.h), made on the FuzzBroker the target uses, so
// that the receipt handles they carry are the ones the target's engine will
// hand out when it replays them. One seed per operation, so that each
// operation's validation is reached at once, and a few sessions that go
// deeper: receive and delete, a FIFO batch round trip, redrive to the
// dead-letter queue and back.
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <string>
#include <vector>

#include "tests/fuzz/fuzz_broker.h"
#include "tests/fuzz/seeds.h"
#include "tests/fuzz/targets.h"

namespace sluice::fuzz {
namespace {

constexpr char kTarget[] = "dispatch";

// With map entries in key order, so that making the seeds again gives the
// same bytes.
std::string Serialized(const pb::Request& req) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    req.SerializeToCodedStream(&coded);
  }
  return out;
}

// Frames and their answers, made by running them.
class Session {
 public:
  pb::Response Step(pb::Request req, unsigned char advance_s = 0) {
    req.set_request_id(++next_id_);
    if (!frames_.empty()) frames_ += kFrameSeparator;
    frames_ += static_cast<char>(advance_s);
    frames_ += Serialized(req);
    broker_.Advance(Millis{advance_s} * 1000);
    return broker_.Call(req);
  }
  const std::string& frames() const { return frames_; }

 private:
  FuzzBroker broker_;
  std::string frames_;
  uint64_t next_id_ = 0;
};

pb::Request Send(const std::string& queue, const std::string& body) {
  pb::Request req;
  req.mutable_send_message()->set_queue_name(queue);
  pb::SendMessageEntry* e = req.mutable_send_message()->mutable_entry();
  e->set_body(body);
  pb::MessageAttributeValue& a = (*e->mutable_message_attributes())["colour"];
  a.set_data_type("String");
  a.set_string_value("blue");
  return req;
}

pb::Request Receive(const std::string& queue, uint32_t max) {
  pb::Request req;
  pb::ReceiveMessageRequest* r = req.mutable_receive_message();
  r->set_queue_name(queue);
  r->set_max_number_of_messages(max);
  r->add_attribute_names("All");
  r->add_message_attribute_names("All");
  return req;
}

std::string FirstHandle(const pb::Response& resp) {
  return resp.receive_message().messages_size() > 0
             ? resp.receive_message().messages(0).receipt_handle()
             : "";
}

// Each operation once, with valid members, on the queues FuzzBroker has.
void OperationSeeds(const std::filesystem::path& dir) {
  std::vector<std::pair<std::string, pb::Request>> ops;
  auto add = [&ops](const char* name) -> pb::Request& {
    ops.emplace_back(name, pb::Request{});
    return ops.back().second;
  };
  {
    auto* r = add("create_queue").mutable_create_queue();
    r->set_queue_name("new");
    (*r->mutable_attributes())["DelaySeconds"] = "2";
    (*r->mutable_attributes())["MessageRetentionPeriod"] = "60";
    (*r->mutable_tags())["team"] = "a";
  }
  add("delete_queue").mutable_delete_queue()->set_queue_name("q");
  add("get_queue_url").mutable_get_queue_url()->set_queue_name("q");
  add("list_queues").mutable_list_queues()->set_queue_name_prefix("d");
  add("get_queue_attributes").mutable_get_queue_attributes()->set_queue_name("q");
  {
    auto* r = add("set_queue_attributes").mutable_set_queue_attributes();
    r->set_queue_name("q");
    (*r->mutable_attributes())["VisibilityTimeout"] = "10";
    (*r->mutable_attributes())["RedriveAllowPolicy"] = R"({"redrivePermission":"allowAll"})";
  }
  add("purge_queue").mutable_purge_queue()->set_queue_name("q");
  ops.emplace_back("send_message", Send("q", "hello"));
  {
    auto* r = add("send_message_batch").mutable_send_message_batch();
    r->set_queue_name("f.fifo");
    for (const char* id : {"a", "b"}) {
      auto* e = r->add_entries();
      e->set_id(id);
      e->set_body(std::string("body ") + id);
      e->set_message_group_id("g");
    }
  }
  ops.emplace_back("receive_message", Receive("q", 10));
  {
    auto* r = add("delete_message").mutable_delete_message();
    r->set_queue_name("q");
    r->set_receipt_handle("not-a-handle");
  }
  {
    auto* r = add("delete_message_batch").mutable_delete_message_batch();
    r->set_queue_name("q");
    auto* e = r->add_entries();
    e->set_id("1");
    e->set_receipt_handle("not-a-handle");
  }
  {
    auto* r = add("change_message_visibility").mutable_change_message_visibility();
    r->set_queue_name("q");
    r->set_receipt_handle("not-a-handle");
    r->set_visibility_timeout(30);
  }
  {
    auto* r = add("change_message_visibility_batch").mutable_change_message_visibility_batch();
    r->set_queue_name("q");
    auto* e = r->add_entries();
    e->set_id("1");
    e->set_receipt_handle("not-a-handle");
    e->set_visibility_timeout(0);
  }
  {
    auto* r = add("start_message_move_task").mutable_start_message_move_task();
    r->set_source_arn("arn:aws:sqs:us-east-1:000000000000:dlq");
    r->set_max_number_of_messages_per_second(5);
  }
  add("cancel_message_move_task").mutable_cancel_message_move_task()->set_task_handle("x");
  add("list_message_move_tasks")
      .mutable_list_message_move_tasks()
      ->set_source_arn("arn:aws:sqs:us-east-1:000000000000:dlq");
  {
    auto* r = add("tag_queue").mutable_tag_queue();
    r->set_queue_name("q");
    (*r->mutable_tags())["env"] = "test";
  }
  {
    auto* r = add("untag_queue").mutable_untag_queue();
    r->set_queue_name("q");
    r->add_tag_keys("env");
  }
  add("list_queue_tags").mutable_list_queue_tags()->set_queue_name("q");
  add("list_dead_letter_source_queues")
      .mutable_list_dead_letter_source_queues()
      ->set_queue_name("dlq");
  for (auto& [name, req] : ops) {
    Session s;
    s.Step(std::move(req));
    WriteSeed(dir, kTarget, "op_" + name, s.frames());
  }
}

void SendReceiveDelete(const std::filesystem::path& dir) {
  Session s;
  s.Step(Send("q", "one"));
  s.Step(Send("q", "two"));
  const pb::Response got = s.Step(Receive("q", 1));
  pb::Request del;
  del.mutable_delete_message()->set_queue_name("q");
  del.mutable_delete_message()->set_receipt_handle(FirstHandle(got));
  s.Step(del);
  const pb::Response again = s.Step(Receive("q", 1), 1);
  pb::Request change;
  change.mutable_change_message_visibility()->set_queue_name("q");
  change.mutable_change_message_visibility()->set_receipt_handle(FirstHandle(again));
  change.mutable_change_message_visibility()->set_visibility_timeout(0);
  s.Step(change);
  WriteSeed(dir, kTarget, "session_send_receive_delete", s.frames());
}

void FifoBatches(const std::filesystem::path& dir) {
  Session s;
  pb::Request send;
  auto* batch = send.mutable_send_message_batch();
  batch->set_queue_name("f.fifo");
  for (int i = 0; i < 3; ++i) {
    auto* e = batch->add_entries();
    e->set_id("m" + std::to_string(i));
    e->set_body("fifo body " + std::to_string(i));
    e->set_message_group_id(i == 2 ? "other" : "g");
    if (i == 1) e->set_message_deduplication_id("dedup-1");
  }
  s.Step(send);
  pb::Request receive = Receive("f.fifo", 10);
  receive.mutable_receive_message()->set_receive_request_attempt_id("attempt-1");
  const pb::Response got = s.Step(receive);
  pb::Request change;
  auto* cb = change.mutable_change_message_visibility_batch();
  cb->set_queue_name("f.fifo");
  pb::Request del;
  auto* db = del.mutable_delete_message_batch();
  db->set_queue_name("f.fifo");
  for (int i = 0; i < got.receive_message().messages_size(); ++i) {
    auto* ce = cb->add_entries();
    ce->set_id("c" + std::to_string(i));
    ce->set_receipt_handle(got.receive_message().messages(i).receipt_handle());
    ce->set_visibility_timeout(60);
    auto* de = db->add_entries();
    de->set_id("d" + std::to_string(i));
    de->set_receipt_handle(got.receive_message().messages(i).receipt_handle());
  }
  s.Step(change);
  s.Step(del, 2);
  WriteSeed(dir, kTarget, "session_fifo_batches", s.frames());
}

void RedriveAndMoveBack(const std::filesystem::path& dir) {
  Session s;
  s.Step(Send("q", "poison"));
  // "q" redrives after two receives; its visibility timeout is 5 s.
  s.Step(Receive("q", 1));
  s.Step(Receive("q", 1), 6);
  s.Step(Receive("q", 1), 6);
  pb::Request sources;
  sources.mutable_list_dead_letter_source_queues()->set_queue_name("dlq");
  s.Step(sources);
  pb::Request start;
  start.mutable_start_message_move_task()->set_source_arn("arn:aws:sqs:us-east-1:000000000000:dlq");
  const pb::Response started = s.Step(start);
  pb::Request list;
  list.mutable_list_message_move_tasks()->set_source_arn("arn:aws:sqs:us-east-1:000000000000:dlq");
  list.mutable_list_message_move_tasks()->set_max_results(10);
  s.Step(list, 1);
  pb::Request cancel;
  cancel.mutable_cancel_message_move_task()->set_task_handle(
      started.start_message_move_task().task_handle());
  s.Step(cancel);
  s.Step(Receive("q", 10), 1);
  WriteSeed(dir, kTarget, "session_redrive_and_move_back", s.frames());
}

void QueueAdministration(const std::filesystem::path& dir) {
  Session s;
  pb::Request create;
  auto* c = create.mutable_create_queue();
  c->set_queue_name("admin.fifo");
  (*c->mutable_attributes())["FifoQueue"] = "true";
  (*c->mutable_attributes())["DeduplicationScope"] = "messageGroup";
  (*c->mutable_attributes())["FifoThroughputLimit"] = "perMessageGroupId";
  s.Step(create);
  pb::Request get;
  get.mutable_get_queue_attributes()->set_queue_name("admin.fifo");
  get.mutable_get_queue_attributes()->add_attribute_names("All");
  s.Step(get);
  pb::Request list;
  list.mutable_list_queues()->set_max_results(1);
  const pb::Response page = s.Step(list);
  list.mutable_list_queues()->set_next_token(page.list_queues().next_token());
  s.Step(list);
  pb::Request purge;
  purge.mutable_purge_queue()->set_queue_name("admin.fifo");
  s.Step(purge);
  pb::Request del;
  del.mutable_delete_queue()->set_queue_name("admin.fifo");
  s.Step(del, 1);
  WriteSeed(dir, kTarget, "session_queue_administration", s.frames());
}

}  // namespace

void MakeDispatchSeeds(const std::filesystem::path& dir) {
  OperationSeeds(dir);
  SendReceiveDelete(dir);
  FifoBatches(dir);
  RedriveAndMoveBack(dir);
  QueueAdministration(dir);
  // A frame that is no Request, between two that are.
  pb::Request get;
  get.set_request_id(1);
  get.mutable_get_queue_url()->set_queue_name("dlq");
  WriteSeed(dir, kTarget, "malformed_frame",
            std::string(1, '\0') + Serialized(get) + std::string(kFrameSeparator) +
                std::string(1, '\0') + "\xff\xff\xff" + std::string(kFrameSeparator) +
                std::string(1, '\0') + Serialized(get));
}

}  // namespace sluice::fuzz
