// The log_replay target's seeds: log segments that a broker wrote, a Storage
// under an Engine taking a session that makes every kind of record (meta,
// queues, messages sent, moved to a dead-letter queue and received, removals,
// purges, deduplication ids remembered and forgotten, move tasks, a queue
// deleted), each prefixed with the target's flags byte; and a torn tail.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "broker/server/dispatch.h"
#include "broker/storage/storage.h"
#include "tests/fuzz/no_disk_waits.h"
#include "tests/fuzz/oracle.h"
#include "tests/fuzz/seeds.h"

namespace sluice::fuzz {
namespace {

namespace fs = std::filesystem;
constexpr char kTarget[] = "log_replay";

// A broker on a Storage in a directory of its own, committing after each
// request as the server does after each turn.
class DurableSession {
 public:
  DurableSession() {
    char pattern[] = "/tmp/sluice-fuzz-seeds-XXXXXX";
    Check(::mkdtemp(pattern) != nullptr, "a scratch directory is made");
    dir_ = pattern;
    StorageOptions options;
    options.fsync = FsyncMode::kNever;
    options.free_space = [] { return std::optional<uint64_t>(uint64_t{1} << 40); };
    options.files = &files_;
    auto storage = Storage::Open(dir_.string(), options);
    Check(storage.ok(), "a new log opens");
    storage_ = std::move(*storage);
    EngineOptions engine_options;
    engine_options.receipt_secret = storage_->receipt_secret();
    engine_options.journal = storage_.get();
    engine_ = std::make_unique<Engine>(&clock_, engine_options);
    Check(storage_->Recover(engine_.get()).ok(), "a new log recovers");
  }
  ~DurableSession() {
    engine_.reset();
    storage_.reset();
    fs::remove_all(dir_);
  }

  pb::Response Call(const pb::Request& req, Millis advance_ms = 0) {
    clock_.Advance(advance_ms);
    engine_->Tick();
    pb::Response resp;
    Dispatch(*engine_, req, &resp);
    Check(storage_->Commit().ok(), "a commit succeeds");
    return resp;
  }
  void Tick(Millis advance_ms) {
    clock_.Advance(advance_ms);
    engine_->Tick();
    Check(storage_->Commit().ok(), "a commit succeeds");
  }

  std::string Segment() const {
    std::ifstream in(dir_ / "log" / "0000000001.seg", std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  fs::path dir_;
  NoDiskWaits files_;
  FakeClock clock_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<Engine> engine_;
};

pb::Request Create(const std::string& name, std::map<std::string, std::string> attributes) {
  pb::Request req;
  req.mutable_create_queue()->set_queue_name(name);
  req.mutable_create_queue()->mutable_attributes()->insert(attributes.begin(), attributes.end());
  return req;
}

pb::Request Send(const std::string& queue, const std::string& body, const std::string& group = "",
                 const std::string& dedup = "") {
  pb::Request req;
  pb::SendMessageEntry* e = req.mutable_send_message()->mutable_entry();
  req.mutable_send_message()->set_queue_name(queue);
  e->set_body(body);
  e->set_message_group_id(group);
  e->set_message_deduplication_id(dedup);
  pb::MessageAttributeValue& a = (*e->mutable_message_attributes())["n"];
  a.set_data_type("Number");
  a.set_string_value("7");
  return req;
}

pb::Request Receive(const std::string& queue) {
  pb::Request req;
  req.mutable_receive_message()->set_queue_name(queue);
  req.mutable_receive_message()->set_max_number_of_messages(10);
  return req;
}

}  // namespace

void MakeLogReplaySeeds(const fs::path& dir) {
  std::string fresh;
  std::string whole;
  {
    DurableSession s;
    fresh = s.Segment();
    s.Call(Create("dlq", {}));
    s.Call(
        Create("q", {{"VisibilityTimeout", "5"},
                     {"RedrivePolicy", R"({"deadLetterTargetArn":"dlq","maxReceiveCount":"1"})"}}));
    s.Call(Create("f.fifo", {{"FifoQueue", "true"}}));
    s.Call(Create("gone", {}));
    s.Call(Send("q", "first"));
    s.Call(Send("q", "second"));
    s.Call(Send("f.fifo", "fifo", "g", "dedup-1"));
    const pb::Response got = s.Call(Receive("q"));
    pb::Request del;
    del.mutable_delete_message()->set_queue_name("q");
    del.mutable_delete_message()->set_receipt_handle(
        got.receive_message().messages(0).receipt_handle());
    s.Call(del);
    // The second message's visibility runs out, and its next receive moves
    // it to the dead-letter queue.
    s.Call(Receive("q"), 6000);
    pb::Request tag;
    tag.mutable_tag_queue()->set_queue_name("q");
    (*tag.mutable_tag_queue()->mutable_tags())["env"] = "test";
    s.Call(tag);
    pb::Request move;
    move.mutable_start_message_move_task()->set_source_arn(
        "arn:aws:sqs:us-east-1:000000000000:dlq");
    s.Call(move);
    s.Tick(1000);
    pb::Request purge;
    purge.mutable_purge_queue()->set_queue_name("f.fifo");
    s.Call(purge);
    s.Call(Send("gone", "soon gone"));
    pb::Request drop;
    drop.mutable_delete_queue()->set_queue_name("gone");
    s.Call(drop);
    s.Call(Send("q", "last"));
    // Deduplication ids are forgotten after five minutes.
    s.Tick(6 * 60 * 1000);
    whole = s.Segment();
  }
  WriteSeed(dir, kTarget, "fresh", std::string(1, '\1') + fresh);
  WriteSeed(dir, kTarget, "session", std::string(1, '\0') + whole);
  WriteSeed(dir, kTarget, "session_repaired", std::string(1, '\1') + whole);
  WriteSeed(dir, kTarget, "session_not_last", std::string(1, '\2') + whole);
  WriteSeed(dir, kTarget, "torn_tail", std::string(1, '\0') + whole.substr(0, whole.size() - 5));
}

}  // namespace sluice::fuzz
