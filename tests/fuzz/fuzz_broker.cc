#include "tests/fuzz/fuzz_broker.h"

#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <utility>

#include "broker/server/dispatch.h"

namespace sluice::fuzz {
namespace {

pb::Request CreateQueue(const char* name,
                        std::initializer_list<std::pair<const char*, const char*>> attributes) {
  pb::Request req;
  req.mutable_create_queue()->set_queue_name(name);
  for (const auto& [key, value] : attributes) {
    (*req.mutable_create_queue()->mutable_attributes())[key] = value;
  }
  return req;
}

}  // namespace

FuzzBroker::FuzzBroker()
    : engine_(&clock_, EngineOptions{}), trace_(std::getenv("SLUICE_FUZZ_TRACE") != nullptr) {
  const pb::Request queues[] = {
      CreateQueue("dlq", {}),
      CreateQueue("q",
                  {{"VisibilityTimeout", "5"},
                   {"RedrivePolicy", R"({"deadLetterTargetArn":"dlq","maxReceiveCount":"2"})"}}),
      CreateQueue("f.fifo", {{"FifoQueue", "true"}, {"ContentBasedDeduplication", "true"}}),
  };
  for (const pb::Request& req : queues) {
    const pb::Response resp = Call(req);
    Check(!resp.has_error() || resp.error().code() == pb::OK, "the fuzz broker's queues are made");
  }
}

pb::Response FuzzBroker::Call(const pb::Request& req) {
  engine_.Tick();
  pb::Response resp;
  Dispatch(engine_, req, &resp);
  if (req.has_receive_message()) (void)engine_.ReceiveWaitMs(req.receive_message());
  engine_.FreeDroppedMessages(64);
  Check(resp.request_id() == req.request_id(), "an answer carries its request's id");
  const bool failed = resp.has_error() && resp.error().code() != pb::OK;
  Check(!failed || resp.op_case() == pb::Response::OP_NOT_SET,
        "an error answer carries no operation");
  // The oneofs of Request and Response number each operation alike.
  Check(failed || static_cast<int>(resp.op_case()) == static_cast<int>(req.op_case()),
        "a successful answer is of its request's operation");
  std::string bytes;
  Check(resp.SerializeToString(&bytes), "an answer serializes");
  if (trace_) {
    std::fprintf(stderr, "request: %s\nanswer: %s\n", req.ShortDebugString().c_str(),
                 resp.ShortDebugString().c_str());
  }
  return resp;
}

}  // namespace sluice::fuzz
