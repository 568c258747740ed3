// Integration tests of the real sluice-broker binary through the client
// library: round trips, long polling with concurrent clients, dead-letter
// queues in real time, metrics, shutdown and reconnects.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <future>
#include <regex>
#include <thread>

#include "client/client.h"
#include "tests/support/broker_process.h"

namespace sluice {
namespace {

using testing::MetricValue;

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::BrokerProcess;
using testing::WaitFor;

pb::CreateQueueRequest CreateReq(const std::string& name,
                                 std::map<std::string, std::string> attributes = {}) {
  pb::CreateQueueRequest req;
  req.set_queue_name(name);
  req.mutable_attributes()->insert(attributes.begin(), attributes.end());
  return req;
}

pb::SendMessageRequest SendReq(const std::string& queue, const std::string& body) {
  pb::SendMessageRequest req;
  req.set_queue_name(queue);
  req.mutable_entry()->set_body(body);
  return req;
}

pb::ReceiveMessageRequest ReceiveReq(const std::string& queue, int wait_s, int max = 1) {
  pb::ReceiveMessageRequest req;
  req.set_queue_name(queue);
  req.set_wait_time_seconds(wait_s);
  req.set_max_number_of_messages(max);
  return req;
}

class BrokerTest : public ::testing::Test {
 protected:
  BrokerProcess broker_;
  Client client_{broker_.endpoint()};

  void CreateQueue(const std::string& name, std::map<std::string, std::string> attributes = {}) {
    auto r = client_.CreateQueue(CreateReq(name, std::move(attributes)));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  // Waits until the broker reports `n` parked long polls.
  bool WaitForParkedReceives(int n) {
    return WaitFor(
        [&] { return MetricValue(broker_.ScrapeMetrics(), "sluice_broker_waiting_receives") == n; },
        seconds(10));
  }
};

TEST_F(BrokerTest, SendReceiveDeleteRoundTrip) {
  CreateQueue("jobs");
  auto sent = client_.SendMessage(SendReq("jobs", "hello"));
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(sent->result().md5_of_message_body(), "5d41402abc4b2a76b9719d911017c592");

  auto got = client_.ReceiveMessage(ReceiveReq("jobs", 0));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->messages_size(), 1);
  EXPECT_EQ(got->messages(0).body(), "hello");
  EXPECT_EQ(got->messages(0).message_id(), sent->result().message_id());

  pb::DeleteMessageRequest del;
  del.set_queue_name("jobs");
  del.set_receipt_handle(got->messages(0).receipt_handle());
  ASSERT_TRUE(client_.DeleteMessage(del).ok());

  pb::GetQueueAttributesRequest attrs;
  attrs.set_queue_name("jobs");
  auto a = client_.GetQueueAttributes(attrs);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->attributes().at("ApproximateNumberOfMessages"), "0");
  EXPECT_EQ(a->attributes().at("ApproximateNumberOfMessagesNotVisible"), "0");
}

TEST_F(BrokerTest, UnknownQueueIsAnErrorCodeNotADisconnect) {
  auto r = client_.SendMessage(SendReq("nope", "x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kQueueDoesNotExist);
  // The broker keeps serving.
  EXPECT_TRUE(client_.ListQueues(pb::ListQueuesRequest()).ok());
}

TEST_F(BrokerTest, OversizedMessageIsRefusedWithMessageTooLong) {
  CreateQueue("big");
  auto r = client_.SendMessage(SendReq("big", std::string((1 << 20) + 1, 'a')));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kMessageTooLong);
  EXPECT_TRUE(client_.SendMessage(SendReq("big", std::string(1 << 20, 'a'))).ok());
}

TEST_F(BrokerTest, LongPollAnswersAsSoonAsAMessageArrives) {
  CreateQueue("lp");
  auto waiting = std::async(std::launch::async, [&] {
    Client consumer(broker_.endpoint());
    const auto start = std::chrono::steady_clock::now();
    auto r = consumer.ReceiveMessage(ReceiveReq("lp", 20));
    return std::make_pair(std::move(r), std::chrono::steady_clock::now() - start);
  });
  ASSERT_TRUE(WaitForParkedReceives(1));
  // While the consumer waits, other clients are served.
  ASSERT_TRUE(client_.ListQueues(pb::ListQueuesRequest()).ok());
  ASSERT_TRUE(client_.SendMessage(SendReq("lp", "wake up")).ok());
  ASSERT_EQ(waiting.wait_for(seconds(10)), std::future_status::ready);
  auto [r, elapsed] = waiting.get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->messages_size(), 1);
  EXPECT_EQ(r->messages(0).body(), "wake up");
  // Answered on arrival, far before the 20 s wait ran out.
  EXPECT_LT(elapsed, seconds(10));
}

TEST_F(BrokerTest, ConcurrentLongPollsEachGetTheirMessage) {
  CreateQueue("fanout");
  constexpr int kConsumers = 4;
  std::vector<std::future<Result<pb::ReceiveMessageResponse>>> consumers;
  for (int i = 0; i < kConsumers; ++i) {
    consumers.push_back(std::async(std::launch::async, [&] {
      Client c(broker_.endpoint());
      return c.ReceiveMessage(ReceiveReq("fanout", 20));
    }));
  }
  ASSERT_TRUE(WaitForParkedReceives(kConsumers));
  pb::SendMessageBatchRequest batch;
  batch.set_queue_name("fanout");
  for (int i = 0; i < kConsumers; ++i) {
    auto* e = batch.add_entries();
    e->set_id("m" + std::to_string(i));
    e->set_body("body-" + std::to_string(i));
  }
  auto sent = client_.SendMessageBatch(batch);
  ASSERT_TRUE(sent.ok());
  ASSERT_EQ(sent->successful_size(), kConsumers);
  std::set<std::string> bodies;
  for (auto& f : consumers) {
    ASSERT_EQ(f.wait_for(seconds(10)), std::future_status::ready);
    auto r = f.get();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->messages_size(), 1);
    bodies.insert(r->messages(0).body());
  }
  EXPECT_EQ(bodies.size(), static_cast<size_t>(kConsumers));  // no message twice
}

TEST_F(BrokerTest, LongPollReturnsEmptyWhenTheWaitRunsOut) {
  CreateQueue("quiet");
  const auto start = std::chrono::steady_clock::now();
  auto r = client_.ReceiveMessage(ReceiveReq("quiet", 1));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->messages_size(), 0);
  EXPECT_GE(elapsed, milliseconds(990));
}

TEST_F(BrokerTest, LongPollWakesWhenAVisibilityTimeoutRunsOut) {
  CreateQueue("vt");
  ASSERT_TRUE(client_.SendMessage(SendReq("vt", "again")).ok());
  pb::ReceiveMessageRequest first = ReceiveReq("vt", 0);
  first.set_visibility_timeout(1);
  auto r1 = client_.ReceiveMessage(first);
  ASSERT_TRUE(r1.ok());
  ASSERT_EQ(r1->messages_size(), 1);
  // Nothing is visible now; the long poll must be woken by the timer, not a send.
  auto r2 = client_.ReceiveMessage(ReceiveReq("vt", 10));
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  ASSERT_EQ(r2->messages_size(), 1);
  EXPECT_EQ(r2->messages(0).message_id(), r1->messages(0).message_id());
  EXPECT_NE(r2->messages(0).receipt_handle(), r1->messages(0).receipt_handle());
}

TEST_F(BrokerTest, DeletingAQueueAnswersItsParkedReceives) {
  CreateQueue("doomed");
  auto waiting = std::async(std::launch::async, [&] {
    Client consumer(broker_.endpoint());
    return consumer.ReceiveMessage(ReceiveReq("doomed", 20));
  });
  ASSERT_TRUE(WaitForParkedReceives(1));
  pb::DeleteQueueRequest del;
  del.set_queue_name("doomed");
  ASSERT_TRUE(client_.DeleteQueue(del).ok());
  ASSERT_EQ(waiting.wait_for(seconds(10)), std::future_status::ready);
  auto r = waiting.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kQueueDoesNotExist);
}

TEST_F(BrokerTest, MessageReceivedTooOftenMovesToTheDeadLetterQueue) {
  CreateQueue("jobs-dlq");
  CreateQueue("jobs",
              {{"RedrivePolicy", R"({"deadLetterTargetArn":"jobs-dlq","maxReceiveCount":"2"})"}});
  auto sent = client_.SendMessage(SendReq("jobs", "poison"));
  ASSERT_TRUE(sent.ok());
  for (int i = 0; i < 2; ++i) {
    pb::ReceiveMessageRequest req = ReceiveReq("jobs", 0);
    req.set_visibility_timeout(0);
    auto r = client_.ReceiveMessage(req);
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->messages_size(), 1) << "receive " << i;
  }
  // The third receive finds the message over its limit and moves it.
  auto r3 = client_.ReceiveMessage(ReceiveReq("jobs", 0));
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3->messages_size(), 0);
  pb::ReceiveMessageRequest from_dlq = ReceiveReq("jobs-dlq", 0);
  from_dlq.add_attribute_names("All");
  auto d = client_.ReceiveMessage(from_dlq);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->messages_size(), 1);
  EXPECT_EQ(d->messages(0).message_id(), sent->result().message_id());
  EXPECT_EQ(d->messages(0).body(), "poison");
  EXPECT_EQ(d->messages(0).attributes().at("DeadLetterQueueSourceArn"),
            "arn:aws:sqs:us-east-1:000000000000:jobs");
}

TEST_F(BrokerTest, MetricsReportQueueDepthByStateAndCounters) {
  CreateQueue("metered");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client_.SendMessage(SendReq("metered", "m")).ok());
  auto r = client_.ReceiveMessage(ReceiveReq("metered", 0));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->messages_size(), 1);
  std::string text;
  // A scrape can show the depth before the counters (seen once under ASan):
  // wait for both.
  ASSERT_TRUE(WaitFor(
      [&] {
        text = broker_.ScrapeMetrics();
        return MetricValue(text, R"(sluice_queue_messages{queue="metered",state="visible"})") ==
                   2 &&
               MetricValue(text, R"(sluice_queue_messages_sent_total{queue="metered"})") == 3 &&
               MetricValue(text, R"(sluice_queue_messages_received_total{queue="metered"})") == 1;
      },
      seconds(10)))
      << text;
  EXPECT_EQ(MetricValue(text, R"(sluice_queue_messages{queue="metered",state="inflight"})"), 1);
  EXPECT_EQ(MetricValue(text, R"(sluice_queue_messages{queue="metered",state="delayed"})"), 0);
  EXPECT_EQ(MetricValue(text, R"(sluice_queue_messages_sent_total{queue="metered"})"), 3);
  EXPECT_EQ(MetricValue(text, R"(sluice_queue_messages_received_total{queue="metered"})"), 1);
  EXPECT_GE(MetricValue(text, R"(sluice_queue_oldest_message_age_seconds{queue="metered"})"), 0);
  EXPECT_EQ(MetricValue(text, R"(sluice_broker_requests_total{code="OK",op="SendMessage"})"), 3);
}

TEST(BrokerLifecycle, SigtermAnswersParkedReceivesAndExitsZero) {
  BrokerProcess broker;
  Client admin(broker.endpoint());
  ASSERT_TRUE(admin.CreateQueue(CreateReq("q")).ok());
  auto waiting = std::async(std::launch::async, [&] {
    Client consumer(broker.endpoint());
    return consumer.ReceiveMessage(ReceiveReq("q", 20));
  });
  ASSERT_TRUE(WaitFor(
      [&] { return MetricValue(broker.ScrapeMetrics(), "sluice_broker_waiting_receives") == 1; },
      seconds(10)));
  broker.process().Signal(SIGTERM);
  EXPECT_EQ(broker.process().Wait(seconds(10)), 0);
  ASSERT_EQ(waiting.wait_for(seconds(10)), std::future_status::ready);
  auto r = waiting.get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->messages_size(), 0);
}

TEST(BrokerLifecycle, ClientReachesARestartedBrokerOnTheSameEndpoint) {
  testing::TempDir dir;
  const std::string endpoint = "ipc://" + dir.path() + "/b.sock";
  auto start = [&] {
    return std::make_unique<testing::Subprocess>(std::vector<std::string>{
        testing::BrokerBinary(), "--listen", endpoint, "--metrics-listen",
        "127.0.0.1:" + std::to_string(testing::FreeTcpPort()), "--http-listen", "127.0.0.1:0",
        "--data-dir", dir.path() + "/data"});
  };
  auto broker = start();
  Client client(endpoint, ClientOptions{.call_timeout_ms = 500});
  ASSERT_TRUE(
      WaitFor([&] { return client.ListQueues(pb::ListQueuesRequest()).ok(); }, seconds(10)));
  broker->Signal(SIGKILL);
  broker->Wait(seconds(10));
  auto down = client.ListQueues(pb::ListQueuesRequest());
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable);
  broker = start();
  EXPECT_TRUE(WaitFor([&] { return client.CreateQueue(CreateReq("after")).ok(); }, seconds(10)));
}

TEST(BrokerLifecycle, ServesOnLoopbackTcp) {
  BrokerProcess broker(BrokerProcess::Options{.tcp = true, .extra_args = {}});
  Client client(broker.endpoint());
  ASSERT_TRUE(client.CreateQueue(CreateReq("tcp")).ok());
  ASSERT_TRUE(client.SendMessage(SendReq("tcp", "over tcp")).ok());
  auto r = client.ReceiveMessage(ReceiveReq("tcp", 1));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->messages_size(), 1);
  EXPECT_EQ(r->messages(0).body(), "over tcp");
}

TEST(BrokerLifecycle, RefusesADataDirectoryInUse) {
  testing::TempDir dir;
  std::vector<std::string> argv = {testing::BrokerBinary(),
                                   "--listen",
                                   "ipc://" + dir.path() + "/a.sock",
                                   "--metrics-listen",
                                   "127.0.0.1:" + std::to_string(testing::FreeTcpPort()),
                                   "--http-listen",
                                   "127.0.0.1:0",
                                   "--data-dir",
                                   dir.path() + "/data"};
  testing::Subprocess first(argv);
  Client client("ipc://" + dir.path() + "/a.sock");
  ASSERT_TRUE(
      WaitFor([&] { return client.ListQueues(pb::ListQueuesRequest()).ok(); }, seconds(10)));
  argv[2] = "ipc://" + dir.path() + "/b.sock";
  argv[4] = "127.0.0.1:" + std::to_string(testing::FreeTcpPort());
  auto second = testing::RunCommand(argv);
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("in use by another broker"), std::string::npos) << second.err;
}

}  // namespace
}  // namespace sluice
