// AnswerMemory: counts the bytes of answers handed to ZeroMQ that it has not
// yet written to their clients, in all and per client, so that a client that
// asks for messages faster than it reads them cannot make the broker hold
// unbounded memory of message bodies.
//
// Each answer's frame is ZeroMQ's to free; its free function (run on
// ZeroMQ's I/O thread, or wherever the frame is dropped) takes the bytes off
// the counts. Counts are atomics shared with the frames, so a frame may
// outlive this object.
//
// The cap rule: once the total is over the cap, a receive from a client that
// still has answers waiting is refused, while clients that read their
// answers go on. The total stays within the cap plus about one answer per
// client, and the connection cap bounds the clients.
#ifndef SLUICE_BROKER_SERVER_ANSWER_MEMORY_H_
#define SLUICE_BROKER_SERVER_ANSWER_MEMORY_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <zmq.hpp>

namespace sluice {

class AnswerMemory {
 public:
  explicit AnswerMemory(int64_t cap_bytes);

  // A frame of `size` bytes for an answer to the client `identity`, counted
  // until ZeroMQ frees it.
  zmq::message_t NewFrame(const std::string& identity, size_t size);

  // Whether a receive from `identity` must be refused now.
  bool OverCapFor(const std::string& identity) const;

  int64_t total() const;
  int64_t cap() const { return cap_; }

  // Forgets clients with nothing held; once in a while.
  void ForgetIdleClients();

  struct Counts {
    std::atomic<int64_t> total{0};
  };
  struct ClientCounts {
    std::shared_ptr<Counts> all;
    std::atomic<int64_t> bytes{0};
  };

 private:
  int64_t cap_;
  std::shared_ptr<Counts> counts_;
  std::unordered_map<std::string, std::shared_ptr<ClientCounts>> clients_;
};

}  // namespace sluice

#endif  // SLUICE_BROKER_SERVER_ANSWER_MEMORY_H_
