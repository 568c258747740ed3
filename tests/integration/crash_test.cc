// Crash test: clients drive a mixed load against the real broker and record
// every acknowledged operation; the broker is killed with SIGKILL at a random
// moment, restarted on the same data directory, and the invariants of a
// durable queue are checked against the record:
//  - every acknowledged send not acknowledged as deleted is there again, in
//    its queue or, once received too often, in the dead-letter queue;
//  - no acknowledged delete comes back;
//  - a message whose visibility timeout was set to an hour (acknowledged)
//    stays in flight;
//  - receive counts are not lower than the highest acknowledged one;
//  - every message that is back has the body it was sent with;
//  - FIFO messages, received and deleted under the load too, come back in
//    the order they were sent, and deduplication ids are remembered;
//  - queues created, changed, purged and deleted under the load are as the
//    last acknowledged change left them;
//  - message move tasks (redrives from the dead-letter queue) that were
//    acknowledged are still listed, none has moved fewer messages than an
//    acknowledged answer reported, and no message is in two queues at once.
// Bodies of up to 64 KiB, most of them deleted, make megabytes of garbage, so
// the broker's log compaction (which starts at 8 MiB of it) runs under the
// load; every other round aims its kill at a compaction that has just begun.
// Seeded and bounded: SLUICE_CRASH_SEED and SLUICE_CRASH_ROUNDS override the
// defaults, and a failure prints the seed that reproduces it.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "client/client.h"
#include "tests/support/broker_process.h"

namespace sluice {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Visibility timeout of the load's receives: short, so that messages left in
// flight by the crash come back quickly for the check.
constexpr int kLoadVisibilitySeconds = 1;
// A message left in flight comes back; received this often it goes to the
// dead-letter queue instead, so dead-letter moves happen under the load.
constexpr int kMaxReceiveCount = 2;
// What the load sets some messages' visibility timeout to: in flight until
// long after the check.
constexpr int kHiddenSeconds = 3600;

// A body whose text says how long it is and which message it is, so a body
// that came back cut or mixed up is caught.
std::string BodyFor(int n, size_t size) {
  std::string body = "body-" + std::to_string(n) + "-" + std::to_string(size) + ":";
  while (body.size() < size) body += static_cast<char>('a' + (body.size() + n) % 26);
  return body;
}

constexpr char kCompactionStarted[] = "event=compaction_started";

size_t CountOf(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::strtoull(v, nullptr, 10) : fallback;
}

// What the clients were told, shared by the load's threads.
struct Ledger {
  std::mutex mu;
  std::set<std::string> sent;                   // acknowledged sends (message ids)
  std::map<std::string, std::string> bodies;    // message id -> body sent
  std::set<std::string> deleted;                // acknowledged deletes
  std::set<std::string> delete_tried;           // deletes sent, acknowledged or not
  std::map<std::string, int> receive_count;     // highest acknowledged count
  std::set<std::string> hidden;                 // acknowledged kHiddenSeconds changes
  std::set<std::string> hide_tried;             // such changes sent, acknowledged or not
  std::vector<std::string> fifo_sent;           // FIFO bodies acknowledged, in order
  std::map<std::string, std::string> fifo_ids;  // FIFO body -> message id
  std::set<std::string> fifo_deleted;           // FIFO bodies, acknowledged deletes
  std::set<std::string> fifo_delete_tried;      // FIFO bodies, deletes sent
  // Queues of the admin load, by name: those whose every change was
  // acknowledged (with the DelaySeconds last set, and whether purged), and
  // those whose deletion was.
  std::map<std::string, int> admin_delay;
  std::set<std::string> admin_purged;
  std::set<std::string> admin_deleted;
  // Message move tasks acknowledged as started, and the most messages an
  // acknowledged listing said each had moved, by its start time.
  int moves_started = 0;
  std::map<int64_t, int64_t> moved_by_start;
};

constexpr int kAdminQueuesPerRound = 400;

// Creates queues, sets an attribute, sends to some and purges them, deletes
// some. A queue whose last change went unanswered is left out of the record:
// it may be either way.
void AdminLoad(const std::string& endpoint, const std::string& prefix, std::mt19937_64 rng,
               const std::atomic<bool>& stop, Ledger* ledger) {
  Client client(endpoint, ClientOptions{.call_timeout_ms = 500});
  // Bounded, so that kept queues stay few next to what a compaction frees
  // (each adds 1 KiB to what every compaction rewrites); a round rarely gets
  // that far before its kill.
  for (int n = 0; n < kAdminQueuesPerRound && !stop.load(); ++n) {
    const std::string name = prefix + "-admin-" + std::to_string(n);
    pb::CreateQueueRequest create;
    create.set_queue_name(name);
    (*create.mutable_attributes())["VisibilityTimeout"] = "37";
    if (!client.CreateQueue(create).ok()) continue;
    pb::SetQueueAttributesRequest set;
    set.set_queue_name(name);
    const int delay = static_cast<int>(rng() % 900);
    (*set.mutable_attributes())["DelaySeconds"] = std::to_string(delay);
    if (!client.SetQueueAttributes(set).ok()) continue;
    bool purged = false;
    if (rng() % 2 == 0) {
      pb::SendMessageRequest send;
      send.set_queue_name(name);
      send.mutable_entry()->set_body("to be purged");
      if (!client.SendMessage(send).ok()) continue;
      pb::PurgeQueueRequest purge;
      purge.set_queue_name(name);
      if (!client.PurgeQueue(purge).ok()) continue;
      purged = true;
    }
    if (rng() % 2 == 0) {
      std::lock_guard lock(ledger->mu);
      ledger->admin_delay[name] = delay;
      if (purged) ledger->admin_purged.insert(name);
      continue;
    }
    pb::DeleteQueueRequest del;
    del.set_queue_name(name);
    if (client.DeleteQueue(del).ok()) {
      std::lock_guard lock(ledger->mu);
      ledger->admin_deleted.insert(name);
    }
  }
}

// Sends a batch of `count` bodies of 16 bytes to `max_body` more, numbered
// from `*n` on, and records what was acknowledged.
void SendBatch(Client& client, const std::string& queue, int count, size_t max_body,
               std::mt19937_64& rng, int* n, Ledger* ledger) {
  pb::SendMessageBatchRequest batch;
  batch.set_queue_name(queue);
  for (int i = 0; i < count; ++i) {
    auto* e = batch.add_entries();
    e->set_id("e" + std::to_string(i));
    e->set_body(BodyFor((*n)++, 16 + rng() % max_body));
  }
  auto r = client.SendMessageBatch(batch);
  if (!r.ok()) return;  // not acknowledged: it may or may not be there
  std::lock_guard lock(ledger->mu);
  for (const auto& ok : r->successful()) {
    ledger->sent.insert(ok.message_id());
    ledger->bodies[ok.message_id()] = batch.entries(std::stoi(ok.id().substr(1))).body();
  }
}

void SendLoad(const std::string& endpoint, const std::string& queue, std::mt19937_64 rng,
              const std::atomic<bool>& stop, Ledger* ledger) {
  Client client(endpoint, ClientOptions{.call_timeout_ms = 500});
  int n = 0;
  while (!stop.load()) {
    const int count = 1 + static_cast<int>(rng() % 10);
    SendBatch(client, queue, count, 64 << 10, rng, &n, ledger);
  }
}

void FifoLoad(const std::string& endpoint, const std::string& queue, const std::atomic<bool>& stop,
              Ledger* ledger) {
  Client client(endpoint, ClientOptions{.call_timeout_ms = 500});
  int n = 0;
  while (!stop.load()) {
    pb::SendMessageRequest req;
    req.set_queue_name(queue);
    const std::string body = "fifo-" + std::to_string(n++);
    req.mutable_entry()->set_body(body);
    req.mutable_entry()->set_message_group_id("g");
    auto r = client.SendMessage(req);
    if (!r.ok()) {
      // Unknown outcome: later sends could overtake it in the record, so
      // the order check stops trusting this group from here on.
      return;
    }
    std::lock_guard lock(ledger->mu);
    ledger->fifo_sent.push_back(body);
    ledger->fifo_ids[body] = r->result().message_id();
  }
}

// A receive of the load: up to 10 messages, in flight for
// kLoadVisibilitySeconds, without waiting.
pb::ReceiveMessageRequest LoadReceive(const std::string& queue) {
  pb::ReceiveMessageRequest req;
  req.set_queue_name(queue);
  req.set_max_number_of_messages(10);
  req.set_visibility_timeout(kLoadVisibilitySeconds);
  req.set_wait_time_seconds(0);
  return req;
}

// Sends to `queue`, whose messages go to the dead-letter queue on their
// second receive, and receives each batch twice without deleting it, the
// first time with a visibility timeout of 0: a steady flow of dead-letter
// moves for the redrive load to take back.
void DeadLetterLoad(const std::string& endpoint, const std::string& queue, std::mt19937_64 rng,
                    const std::atomic<bool>& stop, Ledger* ledger) {
  Client client(endpoint, ClientOptions{.call_timeout_ms = 500});
  int n = 0;
  while (!stop.load()) {
    SendBatch(client, queue, 10, 4096, rng, &n, ledger);
    pb::ReceiveMessageRequest receive = LoadReceive(queue);
    receive.set_visibility_timeout(0);
    (void)client.ReceiveMessage(receive);
    (void)client.ReceiveMessage(receive);
  }
}

// Redrives the dead-letter queue into `destination`, which no load reads, at
// a random rate (0: all at once), one task after another, listing the tasks
// in between to record how far they got.
void RedriveLoad(const std::string& endpoint, const std::string& dlq,
                 const std::string& destination, std::mt19937_64 rng, const std::atomic<bool>& stop,
                 Ledger* ledger) {
  Client client(endpoint, ClientOptions{.call_timeout_ms = 500});
  constexpr int kRates[] = {0, 20, 200};
  while (!stop.load()) {
    pb::StartMessageMoveTaskRequest start;
    start.set_source_arn(dlq);
    start.set_destination_arn(destination);
    start.set_max_number_of_messages_per_second(kRates[rng() % 3]);
    // Refused while the last task still runs; that is part of the load.
    if (client.StartMessageMoveTask(start).ok()) {
      std::lock_guard lock(ledger->mu);
      ++ledger->moves_started;
    }
    pb::ListMessageMoveTasksRequest list;
    list.set_source_arn(dlq);
    list.set_max_results(10);
    if (auto r = client.ListMessageMoveTasks(list); r.ok()) {
      std::lock_guard lock(ledger->mu);
      for (const pb::MessageMoveTask& t : r->results()) {
        int64_t& moved = ledger->moved_by_start[t.started_timestamp()];
        moved = std::max(moved, t.approximate_number_of_messages_moved());
      }
    }
    // Pacing, not a wait for a condition: a few tasks a second, each with
    // time to move something.
    std::this_thread::sleep_for(milliseconds(50 + rng() % 150));
  }
}

// Receives from `queue` and, for each message: deletes it (13 in 16), leaves
// it in flight for kLoadVisibilitySeconds (2 in 16), or hides it for
// kHiddenSeconds (1 in 16). Few stay live, so that garbage outgrows live data
// by the broker's compaction slack and the log is compacted under the load.
void ReceiveLoad(const std::string& endpoint, const std::string& queue, std::mt19937_64 rng,
                 const std::atomic<bool>& stop, Ledger* ledger) {
  Client client(endpoint, ClientOptions{.call_timeout_ms = 1500});
  while (!stop.load()) {
    pb::ReceiveMessageRequest req = LoadReceive(queue);
    req.add_attribute_names("ApproximateReceiveCount");
    auto got = client.ReceiveMessage(req);
    if (!got.ok()) continue;
    pb::DeleteMessageBatchRequest del;
    del.set_queue_name(queue);
    pb::ChangeMessageVisibilityBatchRequest hide;
    hide.set_queue_name(queue);
    std::map<std::string, std::string> id_of;  // receipt handle -> message id
    {
      std::lock_guard lock(ledger->mu);
      for (const auto& m : got->messages()) {
        int& count = ledger->receive_count[m.message_id()];
        count = std::max(count, std::stoi(m.attributes().at("ApproximateReceiveCount")));
        id_of[m.receipt_handle()] = m.message_id();
        const uint64_t choice = rng() % 16;
        if (choice < 13) {
          // The entry's id is its index, to find it by in the answer.
          const std::string id = "d" + std::to_string(del.entries_size());
          auto* e = del.add_entries();
          e->set_id(id);
          e->set_receipt_handle(m.receipt_handle());
          ledger->delete_tried.insert(m.message_id());
        } else if (choice == 15) {
          // The entry's id is its index, to find it by in the answer.
          const std::string id = "h" + std::to_string(hide.entries_size());
          auto* e = hide.add_entries();
          e->set_id(id);
          e->set_receipt_handle(m.receipt_handle());
          e->set_visibility_timeout(kHiddenSeconds);
          ledger->hide_tried.insert(m.message_id());
        }
      }
    }
    // The entries that succeeded, by message id.
    auto acknowledged = [&](const auto& request, const auto& response, std::set<std::string>* to) {
      std::lock_guard lock(ledger->mu);
      for (const auto& ok : response.successful()) {
        to->insert(id_of[request.entries(std::stoi(ok.id().substr(1))).receipt_handle()]);
      }
    };
    if (hide.entries_size() > 0) {
      if (auto r = client.ChangeMessageVisibilityBatch(hide); r.ok()) {
        acknowledged(hide, *r, &ledger->hidden);
      }
    }
    if (del.entries_size() > 0) {
      if (auto r = client.DeleteMessageBatch(del); r.ok()) acknowledged(del, *r, &ledger->deleted);
    }
  }
}

// Receives from the FIFO queue and deletes about half of what it gets; the
// rest stays in flight and holds the group back until it comes again.
void FifoReceiveLoad(const std::string& endpoint, const std::string& queue, std::mt19937_64 rng,
                     const std::atomic<bool>& stop, Ledger* ledger) {
  Client client(endpoint, ClientOptions{.call_timeout_ms = 1500});
  while (!stop.load()) {
    auto got = client.ReceiveMessage(LoadReceive(queue));
    if (!got.ok()) continue;
    for (const auto& m : got->messages()) {
      if (rng() % 2 == 0) continue;
      {
        std::lock_guard lock(ledger->mu);
        ledger->fifo_delete_tried.insert(m.body());
      }
      pb::DeleteMessageRequest del;
      del.set_queue_name(queue);
      del.set_receipt_handle(m.receipt_handle());
      if (client.DeleteMessage(del).ok()) {
        std::lock_guard lock(ledger->mu);
        ledger->fifo_deleted.insert(m.body());
      }
    }
  }
}

// Receives everything in `queue` (in-flight messages come back after the
// load's visibility timeout), once each, and in `in_order` as delivered. A
// FIFO queue's messages are deleted as they come, since a group in flight
// holds back the rest of it.
std::map<std::string, pb::Message> Drain(Client& client, const std::string& queue, bool delete_each,
                                         std::vector<pb::Message>* in_order = nullptr) {
  std::map<std::string, pb::Message> seen;
  const auto deadline = std::chrono::steady_clock::now() + seconds(60);
  for (;;) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ADD_FAILURE() << "the drain of " << queue << " did not end within 60 s (" << seen.size()
                    << " messages so far)";
      break;
    }
    pb::ReceiveMessageRequest req;
    req.set_queue_name(queue);
    req.set_max_number_of_messages(10);
    req.set_visibility_timeout(600);
    req.set_wait_time_seconds(0);
    req.add_attribute_names("All");
    auto r = client.ReceiveMessage(req);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) break;
    if (r->messages_size() == 0) {
      // Nothing visible; wait out the load's visibility timeout once more so
      // no message still in flight from before the crash is missed.
      req.set_wait_time_seconds(kLoadVisibilitySeconds + 1);
      r = client.ReceiveMessage(req);
      if (!r.ok() || r->messages_size() == 0) break;
    }
    for (const auto& m : r->messages()) {
      seen[m.message_id()] = m;
      if (in_order != nullptr) in_order->push_back(m);
      if (delete_each) {
        pb::DeleteMessageRequest del;
        del.set_queue_name(queue);
        del.set_receipt_handle(m.receipt_handle());
        EXPECT_TRUE(client.DeleteMessage(del).ok());
      }
    }
  }
  return seen;
}

TEST(CrashTest, AcknowledgedWorkSurvivesRepeatedSigkill) {
  const uint64_t seed = EnvOr("SLUICE_CRASH_SEED", std::random_device{}());
  const uint64_t rounds = EnvOr("SLUICE_CRASH_ROUNDS", 5);
  SCOPED_TRACE("reproduce with SLUICE_CRASH_SEED=" + std::to_string(seed));
  std::printf("crash test seed=%llu rounds=%llu\n", static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(rounds));
  std::mt19937_64 rng(seed);
  testing::TempDir dir;
  const std::string endpoint = "ipc://" + dir.path() + "/broker.sock";
  const std::string data_dir = dir.path() + "/data";

  // What the load got acknowledged over all rounds, so that a load path that
  // stopped working (and left its checks nothing to check) fails the test.
  size_t total_hidden = 0, total_dead_letter_moves = 0, total_admin_queues = 0;
  int total_moves_started = 0;
  for (uint64_t round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    auto broker = testing::StartBroker(endpoint, data_dir);
    Client admin(endpoint);
    const std::string queue = "crash-" + std::to_string(round);
    const std::string dlq = queue + "-dlq";
    const std::string fifo = queue + ".fifo";
    const std::string redriven = queue + "-redriven";
    const std::string feeder = queue + "-dead-letters";  // dead-letters on its second receive
    pb::CreateQueueRequest create;
    create.set_queue_name(dlq);
    ASSERT_TRUE(admin.CreateQueue(create).ok());
    create.set_queue_name(queue);
    (*create.mutable_attributes())["RedrivePolicy"] = R"({"deadLetterTargetArn":")" + dlq +
                                                      R"(","maxReceiveCount":)" +
                                                      std::to_string(kMaxReceiveCount) + "}";
    ASSERT_TRUE(admin.CreateQueue(create).ok());
    create.set_queue_name(feeder);
    (*create.mutable_attributes())["RedrivePolicy"] =
        R"({"deadLetterTargetArn":")" + dlq + R"(","maxReceiveCount":1})";
    ASSERT_TRUE(admin.CreateQueue(create).ok());
    create.clear_attributes();
    create.set_queue_name(redriven);
    ASSERT_TRUE(admin.CreateQueue(create).ok());
    create.set_queue_name(fifo);
    (*create.mutable_attributes())["ContentBasedDeduplication"] = "true";
    ASSERT_TRUE(admin.CreateQueue(create).ok());

    Ledger ledger;
    std::atomic<bool> stop{false};
    std::vector<std::thread> load;
    load.emplace_back(SendLoad, endpoint, queue, std::mt19937_64(rng()), std::cref(stop), &ledger);
    load.emplace_back(SendLoad, endpoint, queue, std::mt19937_64(rng()), std::cref(stop), &ledger);
    load.emplace_back(FifoLoad, endpoint, fifo, std::cref(stop), &ledger);
    load.emplace_back(FifoReceiveLoad, endpoint, fifo, std::mt19937_64(rng()), std::cref(stop),
                      &ledger);
    load.emplace_back(AdminLoad, endpoint, queue, std::mt19937_64(rng()), std::cref(stop), &ledger);
    load.emplace_back(DeadLetterLoad, endpoint, feeder, std::mt19937_64(rng()), std::cref(stop),
                      &ledger);
    load.emplace_back(RedriveLoad, endpoint, dlq, redriven, std::mt19937_64(rng()), std::cref(stop),
                      &ledger);
    for (int i = 0; i < 2; ++i) {
      load.emplace_back(ReceiveLoad, endpoint, queue, std::mt19937_64(rng()), std::cref(stop),
                        &ledger);
    }
    // Let the load run a random while (long enough, often, for messages left
    // in flight to come back, be dead-lettered, and hold FIFO groups), then
    // kill the broker under it.
    const auto run_for = milliseconds(100 + rng() % 1500);
    ASSERT_TRUE(testing::WaitFor(
        [&] {
          std::lock_guard lock(ledger.mu);
          return !ledger.sent.empty() && !ledger.deleted.empty();
        },
        seconds(20)));
    std::this_thread::sleep_for(run_for);  // a random crash point, not a wait for a condition
    // Every other round aims the kill at a compaction: once one has started,
    // within a few milliseconds (it copies 2 MiB a turn); when none starts in
    // time, the random point above stands.
    bool aimed = false;
    if (round % 2 == 1) {
      const size_t before = CountOf(broker->Stderr(), kCompactionStarted);
      aimed = testing::WaitFor(
          [&] { return CountOf(broker->Stderr(), kCompactionStarted) > before; }, seconds(5));
      if (aimed) std::this_thread::sleep_for(milliseconds(rng() % 10));
    }
    broker->Signal(SIGKILL);
    broker->Wait(seconds(10));
    stop = true;
    for (auto& t : load) t.join();
    const std::string killed_log = broker->Stderr();

    broker = testing::StartBroker(endpoint, data_dir);
    Client client(endpoint, ClientOptions{.call_timeout_ms = 30'000});
    std::set<std::string> expected;
    // A delete (or visibility change) whose answer was lost may or may not
    // have happened.
    for (const auto& id : ledger.sent) {
      if (!ledger.delete_tried.contains(id) && !ledger.hide_tried.contains(id)) expected.insert(id);
    }
    // The queues first: a receive of a message received too often moves it
    // to the dead-letter queue, drained next; a move task still running
    // moves what is visible there to the redrive queue, drained last.
    auto present = Drain(client, queue, /*delete_each=*/false);
    const auto fed = Drain(client, feeder, /*delete_each=*/false);
    const auto dead_lettered = Drain(client, dlq, /*delete_each=*/false);
    const auto moved = Drain(client, redriven, /*delete_each=*/false);
    std::map<std::string, pb::Message> anywhere;
    const std::map<std::string, pb::Message>* const queues[] = {&present, &fed, &dead_lettered,
                                                                &moved};
    for (const auto* in : queues) {
      for (const auto& [id, m] : *in) {
        ASSERT_TRUE(anywhere.emplace(id, m).second) << "message " << id << " is in two queues";
      }
    }
    for (const auto& id : expected) {
      ASSERT_TRUE(anywhere.contains(id)) << "acknowledged send " << id << " was lost";
    }
    for (const auto& [id, m] : anywhere) {
      auto sent = ledger.bodies.find(id);
      if (sent != ledger.bodies.end()) {
        ASSERT_EQ(m.body(), sent->second) << "the body of " << id << " changed";
      }
    }
    // Against the queue only: a delete whose message another receive had
    // just moved to the dead-letter queue succeeds without deleting it, as
    // in SQS (the message is gone from the queue the handle names).
    for (const auto& id : ledger.deleted) {
      ASSERT_FALSE(present.contains(id)) << "acknowledged delete of " << id << " came back";
    }
    for (const auto& id : ledger.hidden) {
      ASSERT_FALSE(anywhere.contains(id))
          << "message " << id << " came back before its acknowledged visibility timeout";
    }
    for (const auto& [id, m] : present) {
      auto it = ledger.receive_count.find(id);
      if (it == ledger.receive_count.end()) continue;
      // The drain's own receive counts too.
      EXPECT_GT(std::stoi(m.attributes().at("ApproximateReceiveCount")), it->second)
          << "receive count of " << id << " went back";
    }

    // FIFO: what was neither deleted nor possibly deleted comes back, what
    // was deleted does not, and the rest comes in the order sent.
    std::vector<pb::Message> delivered;
    Drain(client, fifo, /*delete_each=*/true, &delivered);
    std::map<std::string, size_t> sent_at;  // body -> place in the order sent
    for (size_t i = 0; i < ledger.fifo_sent.size(); ++i) sent_at[ledger.fifo_sent[i]] = i;
    std::set<std::string> fifo_back;
    long last_place = -1;
    for (const pb::Message& m : delivered) {
      fifo_back.insert(m.body());
      ASSERT_FALSE(ledger.fifo_deleted.contains(m.body()))
          << "acknowledged delete of FIFO message " << m.body() << " came back";
      auto at = sent_at.find(m.body());
      if (at == sent_at.end()) continue;  // a send whose answer was lost
      ASSERT_GT(static_cast<long>(at->second), last_place)
          << "FIFO order broken: " << m.body() << " came after " << ledger.fifo_sent[last_place];
      last_place = static_cast<long>(at->second);
    }
    for (const std::string& body : ledger.fifo_sent) {
      if (ledger.fifo_delete_tried.contains(body)) continue;
      ASSERT_TRUE(fifo_back.contains(body)) << "acknowledged FIFO send " << body << " was lost";
    }
    if (!ledger.fifo_sent.empty()) {
      // Deleted or not, a message's deduplication id holds for five minutes.
      pb::SendMessageRequest dup;
      dup.set_queue_name(fifo);
      dup.mutable_entry()->set_body(ledger.fifo_sent.front());
      dup.mutable_entry()->set_message_group_id("g");
      auto r = client.SendMessage(dup);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r->result().message_id(), ledger.fifo_ids[ledger.fifo_sent.front()])
          << "deduplication id forgotten";
    }
    for (const auto& [name, delay] : ledger.admin_delay) {
      pb::GetQueueAttributesRequest get;
      get.set_queue_name(name);
      get.add_attribute_names("All");
      auto r = client.GetQueueAttributes(get);
      ASSERT_TRUE(r.ok()) << "acknowledged queue " << name << ": " << r.status().ToString();
      auto attribute = [&](const std::string& key) {
        auto it = r->attributes().find(key);
        return it == r->attributes().end() ? "(missing)" : it->second;
      };
      EXPECT_EQ(attribute("VisibilityTimeout"), "37") << name;
      EXPECT_EQ(attribute("DelaySeconds"), std::to_string(delay)) << name;
      if (ledger.admin_purged.contains(name)) {
        EXPECT_EQ(attribute("ApproximateNumberOfMessages"), "0") << name;
        EXPECT_EQ(attribute("ApproximateNumberOfMessagesDelayed"), "0") << name;
      }
    }
    for (const std::string& name : ledger.admin_deleted) {
      pb::GetQueueUrlRequest url;
      url.set_queue_name(name);
      EXPECT_EQ(client.GetQueueUrl(url).status().code(), StatusCode::kQueueDoesNotExist)
          << "acknowledged deletion of " << name << " undone";
    }
    // Move tasks: every acknowledged start is still listed (the broker keeps
    // the last ten a queue), and none moved less than it was seen to.
    pb::ListMessageMoveTasksRequest list;
    list.set_source_arn(dlq);
    list.set_max_results(10);
    auto tasks = client.ListMessageMoveTasks(list);
    ASSERT_TRUE(tasks.ok()) << tasks.status().ToString();
    EXPECT_GE(tasks->results_size(), std::min(ledger.moves_started, 10))
        << "acknowledged message move tasks were forgotten";
    for (const pb::MessageMoveTask& t : tasks->results()) {
      auto seen = ledger.moved_by_start.find(t.started_timestamp());
      if (seen == ledger.moved_by_start.end()) continue;
      EXPECT_GE(t.approximate_number_of_messages_moved(), seen->second)
          << "the move task started at " << t.started_timestamp() << " lost progress";
    }
    const size_t compactions = CountOf(killed_log + broker->Stderr(), kCompactionStarted);
    // Whether the kill came while a compaction was under way.
    const bool killed_compacting =
        CountOf(killed_log, kCompactionStarted) > CountOf(killed_log, "event=compaction_done");
    std::printf(
        "round %llu: sent=%zu deleted=%zu hidden=%zu checked_present=%zu dead_lettered=%zu "
        "moves_started=%d redriven=%zu fifo=%zu fifo_deleted=%zu admin_queues=%zu admin_purged=%zu "
        "admin_deleted=%zu "
        "compactions_started=%zu kill_aimed_at_compaction=%d killed_while_compacting=%d\n",
        static_cast<unsigned long long>(round), ledger.sent.size(), ledger.deleted.size(),
        ledger.hidden.size(), expected.size(), dead_lettered.size(), ledger.moves_started,
        moved.size(), ledger.fifo_sent.size(), ledger.fifo_deleted.size(),
        ledger.admin_delay.size(), ledger.admin_purged.size(), ledger.admin_deleted.size(),
        compactions, aimed ? 1 : 0, killed_compacting ? 1 : 0);
    total_hidden += ledger.hidden.size();
    total_dead_letter_moves += dead_lettered.size() + moved.size();
    total_admin_queues += ledger.admin_delay.size() + ledger.admin_deleted.size();
    total_moves_started += ledger.moves_started;
    broker->Signal(SIGKILL);
    broker->Wait(seconds(10));
  }
  EXPECT_GT(total_hidden, 0u) << "no visibility change was acknowledged";
  EXPECT_GT(total_dead_letter_moves, 0u) << "no message reached the dead-letter queue";
  EXPECT_GT(total_admin_queues, 0u) << "no queue of the admin load was acknowledged";
  EXPECT_GT(total_moves_started, 0) << "no message move task was acknowledged";
}

}  // namespace
}  // namespace sluice
