// Malformed input sent to the real broker with raw ZeroMQ, one test per kind
// of bad frame: each gets a MalformedRequest answer (or, for a frame over the
// size limit, a dropped connection) and the broker keeps serving.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "client/client.h"
#include "tests/support/broker_process.h"

namespace sluice {
namespace {

class MalformedFrameTest : public ::testing::Test {
 protected:
  MalformedFrameTest() : raw_(context_, zmq::socket_type::dealer) {
    raw_.set(zmq::sockopt::linger, 0);
    raw_.set(zmq::sockopt::rcvtimeo, 5000);
    raw_.connect(broker_.endpoint());
  }

  // Sends `frames` as one ZeroMQ message and returns the parsed answer.
  pb::Response Exchange(const std::vector<std::string>& frames) {
    std::vector<zmq::const_buffer> parts;
    for (const std::string& f : frames) parts.push_back(zmq::buffer(f));
    EXPECT_TRUE(zmq::send_multipart(raw_, parts));
    std::vector<zmq::message_t> answer;
    EXPECT_TRUE(zmq::recv_multipart(raw_, std::back_inserter(answer)));
    pb::Response resp;
    EXPECT_EQ(answer.size(), 1u);
    if (!answer.empty()) {
      EXPECT_TRUE(resp.ParseFromArray(answer[0].data(), static_cast<int>(answer[0].size())));
    }
    return resp;
  }

  void ExpectBrokerStillServes() {
    Client client(broker_.endpoint());
    pb::CreateQueueRequest req;
    req.set_queue_name("still-alive");
    auto r = client.CreateQueue(req);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
  }

  testing::BrokerProcess broker_;
  zmq::context_t context_;
  zmq::socket_t raw_;
};

TEST_F(MalformedFrameTest, GarbageBytesGetMalformedRequest) {
  pb::Response resp = Exchange({std::string("\xff\xff\xff\xff not a protobuf", 20)});
  EXPECT_EQ(resp.error().code(), pb::MALFORMED_REQUEST);
  EXPECT_FALSE(resp.error().detail().empty());
  ExpectBrokerStillServes();
}

TEST_F(MalformedFrameTest, EmptyFrameNamesNoOperation) {
  pb::Response resp = Exchange({""});
  EXPECT_EQ(resp.error().code(), pb::MALFORMED_REQUEST);
  ExpectBrokerStillServes();
}

TEST_F(MalformedFrameTest, UnknownOperationFieldGetsMalformedRequest) {
  // Field 99 (varint) is no operation this broker knows; the request id must
  // still be echoed so the client can match the answer.
  pb::Request req;
  req.set_request_id(42);
  std::string bytes = req.SerializeAsString();
  bytes += std::string("\x98\x06\x01", 3);  // tag (99 << 3 | 0), value 1
  pb::Response resp = Exchange({bytes});
  EXPECT_EQ(resp.request_id(), 42u);
  EXPECT_EQ(resp.error().code(), pb::MALFORMED_REQUEST);
  ExpectBrokerStillServes();
}

TEST_F(MalformedFrameTest, MultiFrameMessageGetsMalformedRequest) {
  pb::Request req;
  req.set_request_id(7);
  req.mutable_list_queues();
  // What a REQ socket would send: an empty delimiter before the payload.
  pb::Response resp = Exchange({"", req.SerializeAsString()});
  EXPECT_EQ(resp.error().code(), pb::MALFORMED_REQUEST);
  ExpectBrokerStillServes();
}

TEST_F(MalformedFrameTest, TruncatedRequestGetsMalformedRequest) {
  pb::Request req;
  req.set_request_id(9);
  req.mutable_send_message()->set_queue_name("q");
  req.mutable_send_message()->mutable_entry()->set_body(std::string(100, 'x'));
  std::string bytes = req.SerializeAsString();
  pb::Response resp = Exchange({bytes.substr(0, bytes.size() - 10)});
  EXPECT_EQ(resp.error().code(), pb::MALFORMED_REQUEST);
  ExpectBrokerStillServes();
}

TEST_F(MalformedFrameTest, FrameOverTheSizeLimitIsDroppedAndTheBrokerServesOn) {
  // 5 MiB is past the broker's 4 MiB frame limit: ZeroMQ drops the peer, no
  // answer comes back, and nothing else is affected.
  raw_.set(zmq::sockopt::rcvtimeo, 1000);
  const std::string huge(5 << 20, 'z');
  ASSERT_TRUE(raw_.send(zmq::buffer(huge), zmq::send_flags::none));
  zmq::message_t answer;
  EXPECT_FALSE(raw_.recv(answer));
  ExpectBrokerStillServes();
}

}  // namespace
}  // namespace sluice
