// Recovery of the real broker from its data directory: after SIGKILL, after a
// write torn at the end of the log, and its refusal to start on a log damaged
// in the middle.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "client/client.h"
#include "tests/support/broker_process.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

class RecoveryTest : public ::testing::Test {
 protected:
  void Start() { broker_ = testing::StartBroker(endpoint_, data_dir_); }
  void Kill() {
    broker_->Signal(SIGKILL);
    broker_->Wait(seconds(10));
  }

  Client& client() {
    if (!client_)
      client_ = std::make_unique<Client>(endpoint_, ClientOptions{.call_timeout_ms = 2000});
    return *client_;
  }

  void CreateQueue(const std::string& name, std::map<std::string, std::string> attributes = {}) {
    pb::CreateQueueRequest req;
    req.set_queue_name(name);
    req.mutable_attributes()->insert(attributes.begin(), attributes.end());
    auto r = client().CreateQueue(req);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  std::string Send(const std::string& queue, const std::string& body,
                   const std::string& group = "") {
    pb::SendMessageRequest req;
    req.set_queue_name(queue);
    req.mutable_entry()->set_body(body);
    if (!group.empty()) req.mutable_entry()->set_message_group_id(group);
    auto r = client().SendMessage(req);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->result().message_id() : "";
  }

  std::vector<pb::Message> Receive(const std::string& queue, int max, int visibility = 30) {
    pb::ReceiveMessageRequest req;
    req.set_queue_name(queue);
    req.set_max_number_of_messages(max);
    req.set_visibility_timeout(visibility);
    req.add_attribute_names("All");
    auto r = client().ReceiveMessage(req);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {};
    return {r->messages().begin(), r->messages().end()};
  }

  std::string Attribute(const std::string& queue, const std::string& name) {
    pb::GetQueueAttributesRequest req;
    req.set_queue_name(queue);
    auto r = client().GetQueueAttributes(req);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->attributes().at(name) : "";
  }

  // The newest segment of the broker's log.
  fs::path NewestLog() const {
    fs::path newest;
    for (const auto& e : fs::directory_iterator(data_dir_ + "/log")) {
      if (e.path().extension() == ".seg" && (newest.empty() || e.path() > newest)) {
        newest = e.path();
      }
    }
    return newest;
  }

  testing::TempDir dir_;
  const std::string endpoint_ = "ipc://" + dir_.path() + "/broker.sock";
  const std::string data_dir_ = dir_.path() + "/data";
  std::unique_ptr<testing::Subprocess> broker_;
  std::unique_ptr<Client> client_;
};

TEST_F(RecoveryTest, AcknowledgedStateSurvivesSigkill) {
  Start();
  CreateQueue("jobs", {{"VisibilityTimeout", "45"}});
  CreateQueue("orders.fifo", {{"ContentBasedDeduplication", "true"}});
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(Send("jobs", "job-" + std::to_string(i)));
  for (int i = 0; i < 3; ++i) Send("orders.fifo", "order-" + std::to_string(i), "customer");
  // One received and deleted, one received and left in flight.
  auto got = Receive("jobs", 2, 600);
  ASSERT_EQ(got.size(), 2u);
  pb::DeleteMessageRequest del;
  del.set_queue_name("jobs");
  del.set_receipt_handle(got[0].receipt_handle());
  ASSERT_TRUE(client().DeleteMessage(del).ok());
  Kill();

  Start();
  EXPECT_EQ(Attribute("jobs", "VisibilityTimeout"), "45");
  EXPECT_EQ(Attribute("jobs", "ApproximateNumberOfMessages"), "3");
  EXPECT_EQ(Attribute("jobs", "ApproximateNumberOfMessagesNotVisible"), "1");
  // The in-flight message keeps its receipt handle: it can still be deleted.
  del.set_receipt_handle(got[1].receipt_handle());
  auto deleted = client().DeleteMessage(del);
  EXPECT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(Attribute("jobs", "ApproximateNumberOfMessagesNotVisible"), "0");
  std::set<std::string> remaining;
  for (const auto& m : Receive("jobs", 10)) remaining.insert(m.message_id());
  EXPECT_EQ(remaining, (std::set<std::string>{ids[2], ids[3], ids[4]}));

  // FIFO: order kept, and the deduplication window still holds.
  auto orders = Receive("orders.fifo", 10);
  ASSERT_EQ(orders.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(orders[i].body(), "order-" + std::to_string(i));
  pb::SendMessageRequest dup;
  dup.set_queue_name("orders.fifo");
  dup.mutable_entry()->set_body("order-0");
  dup.mutable_entry()->set_message_group_id("customer");
  auto again = client().SendMessage(dup);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->result().message_id(), orders[0].message_id());
}

TEST_F(RecoveryTest, ReceiveCountsSurviveSoDeadLetteringStillHappens) {
  Start();
  CreateQueue("dlq");
  CreateQueue("work", {{"RedrivePolicy", R"({"deadLetterTargetArn":"dlq","maxReceiveCount":2})"}});
  const std::string id = Send("work", "poison");
  ASSERT_EQ(Receive("work", 1, 0).size(), 1u);
  ASSERT_EQ(Receive("work", 1, 0).size(), 1u);
  Kill();
  Start();
  // Two receives were recorded, so the third moves the message.
  EXPECT_TRUE(Receive("work", 1).empty());
  auto dead = Receive("dlq", 1);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].message_id(), id);
  EXPECT_EQ(dead[0].body(), "poison");
}

TEST_F(RecoveryTest, DeletedQueueStaysDeletedAndItsNameIsFree) {
  Start();
  CreateQueue("temp");
  Send("temp", "x");
  pb::DeleteQueueRequest del;
  del.set_queue_name("temp");
  ASSERT_TRUE(client().DeleteQueue(del).ok());
  CreateQueue("temp", {{"DelaySeconds", "7"}});
  Kill();
  Start();
  EXPECT_EQ(Attribute("temp", "DelaySeconds"), "7");
  EXPECT_EQ(Attribute("temp", "ApproximateNumberOfMessages"), "0");
}

TEST_F(RecoveryTest, TornWriteAtTheEndOfTheLogIsDroppedAndReported) {
  Start();
  CreateQueue("q");
  for (int i = 0; i < 10; ++i) Send("q", "m" + std::to_string(i));
  Kill();
  // Cut the last send's batch short, in its body, as a crash in the middle
  // of a write would (what follows it, a mark of the last sync, goes too).
  const fs::path log = NewestLog();
  ASSERT_FALSE(log.empty());
  std::string bytes;
  {
    std::ifstream in(log, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const size_t last_body = bytes.rfind("m9");
  ASSERT_NE(last_body, std::string::npos);
  fs::resize_file(log, last_body + 1);
  Start();
  EXPECT_EQ(Attribute("q", "ApproximateNumberOfMessages"), "9");
  EXPECT_NE(broker_->Stderr().find("event=torn_tail_dropped"), std::string::npos)
      << broker_->Stderr();
}

TEST_F(RecoveryTest, GarbageAfterTheLastRecordIsDropped) {
  Start();
  CreateQueue("q");
  for (int i = 0; i < 10; ++i) Send("q", "m" + std::to_string(i));
  Kill();
  {
    std::ofstream out(NewestLog(), std::ios::binary | std::ios::app);
    out << std::string("\x13\x37garbage-of-a-half-written-block", 32);
  }
  Start();
  EXPECT_EQ(Attribute("q", "ApproximateNumberOfMessages"), "10");
}

TEST_F(RecoveryTest, CorruptionInTheMiddleOfTheLogRefusesToStart) {
  Start();
  CreateQueue("q");
  for (int i = 0; i < 20; ++i) Send("q", "m" + std::to_string(i));
  Kill();
  const fs::path log = NewestLog();
  {
    std::fstream f(log, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(fs::file_size(log) / 2));
    f.write("\xff\xff\xff\xff", 4);
  }
  testing::CommandResult r =
      testing::RunCommand({testing::BrokerBinary(), "--listen", endpoint_, "--metrics-listen",
                           "127.0.0.1:" + std::to_string(testing::FreeTcpPort()), "--http-listen",
                           "127.0.0.1:0", "--data-dir", data_dir_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("Corruption"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(NewestLog().string() + " at offset "), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sluice
