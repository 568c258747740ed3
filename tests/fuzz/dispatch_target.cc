// Fuzz target: the broker's request decoding and validation from raw frames.
// Each frame is what a client could put in a ZeroMQ message: bytes that
// pb::Request::ParseFromArray reads (or refuses, as the server then answers
// MalformedRequest), dispatched to a real Engine in the order given, so that
// a sequence can create, send, receive and delete with the receipt handles
// that the deterministic engine hands out (the seeds hold such sequences).
#include <string_view>

#include "broker/engine/limits.h"
#include "tests/fuzz/fuzz_broker.h"
#include "tests/fuzz/targets.h"

namespace sluice::fuzz {

int FuzzDispatch(const uint8_t* data, size_t size) {
  static const bool quiet = (QuietLogs(), true);
  (void)quiet;
  FuzzBroker broker;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (!rest.empty()) {
    const size_t end = rest.find(kFrameSeparator);
    std::string_view frame = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view()
                                         : rest.substr(end + kFrameSeparator.size());
    if (frame.empty()) continue;
    broker.Advance(Millis{static_cast<unsigned char>(frame.front())} * 1000);
    frame.remove_prefix(1);
    // ZeroMQ refuses larger frames before the broker sees them.
    if (static_cast<int64_t>(frame.size()) > limits::kMaxFrameBytes) continue;
    pb::Request req;
    if (!req.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) continue;
    broker.Call(req);
  }
  return 0;
}

}  // namespace sluice::fuzz
