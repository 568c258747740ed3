// The broker's caps and per-message access checks on the real binary: at
// each cap the client that hit it gets a clear error while the others go on,
// and nothing acknowledged is lost. A CURVE key revoked by a reload stops
// working on the connection that was already open.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <set>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "client/client.h"
#include "common/curve_keys.h"
#include "tests/support/broker_process.h"
#include "tests/support/subprocess.h"

namespace sluice {
namespace {

using std::chrono::seconds;
using testing::BrokerProcess;
using testing::MetricValue;
using testing::WaitFor;

pb::CreateQueueRequest CreateReq(const std::string& name) {
  pb::CreateQueueRequest req;
  req.set_queue_name(name);
  return req;
}

int TcpPortOf(const std::string& endpoint) {
  return std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
}

// A TCP connection that never says a word: it holds one of the broker's
// connection slots until its handshake times out.
class SilentConnection {
 public:
  explicit SilentConnection(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~SilentConnection() { ::close(fd_); }
  bool connected() const { return connected_; }

 private:
  int fd_;
  bool connected_ = false;
};

TEST(Limits, AConnectionBeyondTheCapIsRefusedAndTheOthersGoOn) {
  BrokerProcess broker(
      BrokerProcess::Options{.tcp = true, .extra_args = {"--max-connections", "3"}});
  Client first(broker.endpoint(), ClientOptions{.call_timeout_ms = 5000});
  ASSERT_TRUE(first.CreateQueue(CreateReq("q")).ok());
  std::vector<std::unique_ptr<SilentConnection>> silent;
  for (int i = 0; i < 2; ++i) {
    silent.push_back(std::make_unique<SilentConnection>(TcpPortOf(broker.endpoint())));
    ASSERT_TRUE(silent.back()->connected());
  }
  ASSERT_TRUE(WaitFor(
      [&] { return MetricValue(broker.ScrapeMetrics(), "sluice_broker_zmq_connections") >= 3; },
      seconds(10)));

  Client refused(broker.endpoint(), ClientOptions{.call_timeout_ms = 5000});
  auto r = refused.ListQueues(pb::ListQueuesRequest());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_NE(r.status().detail().find("connection limit"), std::string::npos)
      << r.status().ToString();
  EXPECT_GE(MetricValue(broker.ScrapeMetrics(),
                        "sluice_broker_zmq_connections_refused_total{reason=\"connection_limit\"}"),
            1);

  pb::SendMessageRequest send;
  send.set_queue_name("q");
  send.mutable_entry()->set_body("still served");
  EXPECT_TRUE(first.SendMessage(send).ok());

  silent.clear();
  EXPECT_TRUE(
      WaitFor([&] { return refused.ListQueues(pb::ListQueuesRequest()).ok(); }, seconds(10)));
}

TEST(Limits, CreateQueueBeyondTheCapIsOverLimitAndTheQueuesGoOn) {
  BrokerProcess broker(BrokerProcess::Options{.tcp = false, .extra_args = {"--max-queues", "2"}});
  Client client(broker.endpoint());
  ASSERT_TRUE(client.CreateQueue(CreateReq("a")).ok());
  ASSERT_TRUE(client.CreateQueue(CreateReq("b")).ok());
  auto third = client.CreateQueue(CreateReq("c"));
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), StatusCode::kOverLimit);
  EXPECT_NE(third.status().detail().find("--max-queues"), std::string::npos);
  EXPECT_TRUE(client.CreateQueue(CreateReq("a")).ok());  // idempotent, not new
  pb::SendMessageRequest send;
  send.set_queue_name("a");
  send.mutable_entry()->set_body("x");
  EXPECT_TRUE(client.SendMessage(send).ok());
  EXPECT_EQ(
      MetricValue(broker.ScrapeMetrics(), "sluice_broker_limit_refusals_total{limit=\"queues\"}"),
      1);
  pb::DeleteQueueRequest del;
  del.set_queue_name("b");
  ASSERT_TRUE(client.DeleteQueue(del).ok());
  EXPECT_TRUE(client.CreateQueue(CreateReq("c")).ok());
}

// A client that asks for messages and does not read its answers: its answers
// pile up in the broker until the cap, then its receives are refused, while a
// client that reads goes on; every message is delivered in the end.
TEST(Limits, AClientThatDoesNotReadIsRefusedAtTheAnswerMemoryCap) {
  BrokerProcess broker(
      BrokerProcess::Options{.tcp = true, .extra_args = {"--max-body-memory-mb", "1"}});
  Client client(broker.endpoint(), ClientOptions{.call_timeout_ms = 10'000});
  pb::CreateQueueRequest create = CreateReq("big");
  (*create.mutable_attributes())["VisibilityTimeout"] = "2";
  ASSERT_TRUE(client.CreateQueue(create).ok());
  constexpr int kMessages = 40;
  const std::string body(200 << 10, 'b');
  for (int i = 0; i < kMessages; ++i) {
    pb::SendMessageRequest send;
    send.set_queue_name("big");
    send.mutable_entry()->set_body(std::to_string(i) + ":" + body);
    ASSERT_TRUE(client.SendMessage(send).ok());
  }

  zmq::context_t context;
  zmq::socket_t slow(context, zmq::socket_type::dealer);
  slow.set(zmq::sockopt::linger, 0);
  slow.set(zmq::sockopt::rcvhwm, 1);
  slow.set(zmq::sockopt::rcvbuf, 4096);
  slow.connect(broker.endpoint());
  // One request at a time until one is refused: requests that arrive in the
  // same loop turn are answered together, before any of their answers is
  // counted as held.
  int sent = 0;
  auto ask = [&] {
    pb::Request req;
    req.set_request_id(static_cast<uint64_t>(++sent));
    req.mutable_receive_message()->set_queue_name("big");
    req.mutable_receive_message()->set_max_number_of_messages(10);
    req.mutable_receive_message()->set_wait_time_seconds(0);
    const std::string frame = req.SerializeAsString();
    return slow.send(zmq::buffer(frame), zmq::send_flags::none).has_value();
  };
  ASSERT_TRUE(WaitFor(
      [&] {
        return ask() &&
               MetricValue(broker.ScrapeMetrics(),
                           "sluice_broker_limit_refusals_total{limit=\"answer_memory\"}") >= 1;
      },
      seconds(30)));

  // The client that reads is served meanwhile, and in the end gets every
  // message the slow one was given but did not delete.
  std::set<std::string> delivered;
  ASSERT_TRUE(WaitFor(
      [&] {
        pb::ReceiveMessageRequest recv;
        recv.set_queue_name("big");
        recv.set_max_number_of_messages(10);
        recv.set_wait_time_seconds(1);
        auto got = client.ReceiveMessage(recv);
        if (!got.ok()) return false;
        for (const auto& m : got->messages()) {
          delivered.insert(m.body().substr(0, m.body().find(':')));
          pb::DeleteMessageRequest del;
          del.set_queue_name("big");
          del.set_receipt_handle(m.receipt_handle());
          if (!client.DeleteMessage(del).ok()) return false;
        }
        return delivered.size() == kMessages;
      },
      seconds(60)));

  // The slow client's answers: messages first, then its refusals, worded.
  int refusals = 0;
  for (int i = 0; i < sent; ++i) {
    zmq::message_t msg;
    slow.set(zmq::sockopt::rcvtimeo, 10'000);
    ASSERT_TRUE(slow.recv(msg));
    pb::Response resp;
    ASSERT_TRUE(resp.ParseFromArray(msg.data(), static_cast<int>(msg.size())));
    if (resp.has_error()) {
      EXPECT_EQ(resp.error().code(), pb::OVER_LIMIT);
      EXPECT_NE(resp.error().detail().find("read them before receiving more"), std::string::npos);
      ++refusals;
    }
  }
  EXPECT_GE(refusals, 1);
}

// The principals file of one principal "app" allowed everything, with `key`.
void WritePrincipals(const std::string& path, const std::string& key) {
  std::ofstream out(path);
  out << R"({"principals": {"app": {"curve_public_keys": [)"
      << (key.empty() ? "" : "\"" + key + "\"")
      << R"(], "grants": [{"actions": ["*"], "queues": ["*"]}]}}})";
}

TEST(Limits, AKeyRevokedByAReloadStopsWorkingOnItsOpenConnection) {
  if (!zmq_has("curve")) GTEST_SKIP() << "libzmq without CURVE";
  testing::TempDir dir;
  auto broker_keys = NewCurveKeyPair();
  auto client_keys = NewCurveKeyPair();
  ASSERT_TRUE(broker_keys.ok() && client_keys.ok());
  const std::string principals = dir.path() + "/principals.json";
  WritePrincipals(principals, client_keys->public_key);
  const int metrics_port = testing::FreeTcpPort();
  const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(testing::FreeTcpPort());
  testing::Subprocess broker({testing::BrokerBinary(), "--listen", endpoint, "--http-listen", "",
                              "--metrics-listen", "127.0.0.1:" + std::to_string(metrics_port),
                              "--data-dir", dir.path() + "/data", "--principals", principals,
                              "--secret-key", broker_keys->secret_key});
  Client client(endpoint, ClientOptions{.call_timeout_ms = 2000,
                                        .curve = CurveCredentials{broker_keys->public_key,
                                                                  client_keys->public_key,
                                                                  client_keys->secret_key}});
  ASSERT_TRUE(WaitFor([&] { return client.CreateQueue(CreateReq("q")).ok(); }, seconds(20)));

  WritePrincipals(principals, "");
  broker.Signal(SIGHUP);
  ASSERT_TRUE(WaitFor(
      [&] {
        return MetricValue(testing::HttpGet(metrics_port, "/metrics"),
                           "sluice_broker_principals_reloads_total{result=\"ok\"}") == 1;
      },
      seconds(10)));
  auto r = client.ListQueues(pb::ListQueuesRequest());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kAccessDenied) << r.status().ToString();
}

}  // namespace
}  // namespace sluice
