// FuzzBroker: the broker as the fuzz targets meet it, without sockets or a
// disk. An Engine on a FakeClock with its in-memory journal, made anew for
// each input so that an input always meets the same broker, and holding the
// queues that the seed corpora name, so that requests reach past "no such
// queue": "dlq", "q" (standard, redriving to dlq after two receives) and
// "f.fifo" (FIFO, content-based deduplication).
//
// Call() does for one request what the server's loop does for it: brings the
// timers up to now, dispatches, frees what purges left. It aborts when an
// answer breaks the wire protocol's contract (an error that carries an
// operation, an answer that does not serialize), which a fuzzer reports as a
// crash. With SLUICE_FUZZ_TRACE set in the environment it prints each
// request and answer, to see what a crashing input does.
#ifndef SLUICE_TESTS_FUZZ_FUZZ_BROKER_H_
#define SLUICE_TESTS_FUZZ_FUZZ_BROKER_H_

#include "broker/engine/engine.h"
#include "common/clock.h"
#include "sluice.pb.h"
#include "tests/fuzz/oracle.h"

namespace sluice::fuzz {

class FuzzBroker {
 public:
  FuzzBroker();
  FuzzBroker(const FuzzBroker&) = delete;
  FuzzBroker& operator=(const FuzzBroker&) = delete;

  pb::Response Call(const pb::Request& req);
  void Advance(Millis by) { clock_.Advance(by); }

 private:
  FakeClock clock_;
  Engine engine_;
  bool trace_;
};

}  // namespace sluice::fuzz

#endif  // SLUICE_TESTS_FUZZ_FUZZ_BROKER_H_
