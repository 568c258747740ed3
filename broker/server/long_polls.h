// LongPolls: the receives that wait for messages (long polling).
//
// A receive that finds no message, or finds its queue over the in-flight
// limit, and may wait (its WaitTimeSeconds, or its queue's default) is parked
// on its queue, in arrival order. The server says which queues a request
// changed, and that a tick may have changed any; Serve then retries the
// parked receives of those queues and of the queues whose timers or waits ran
// out, and answers those that got messages (or an error: their queue was
// deleted) and those whose wait ended, with none. So a receive is answered as
// soon as a message comes, and other clients are served while it waits.
//
// Time comes in from the caller, and answers go out to it: no clock, no I/O.
#ifndef SLUICE_BROKER_SERVER_LONG_POLLS_H_
#define SLUICE_BROKER_SERVER_LONG_POLLS_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "broker/engine/engine.h"
#include "broker/server/peer.h"
#include "common/clock.h"
#include "sluice.pb.h"

namespace sluice {

class LongPolls {
 public:
  struct Waiter {
    Peer peer;
    pb::Request request;
    Millis deadline = 0;
    Millis started = 0;
  };
  // Takes the answer of a parked receive.
  using Answer = std::function<void(const Waiter& waiter, pb::Response resp)>;

  // `engine` must outlive the long polls.
  explicit LongPolls(Engine* engine) : engine_(engine) {}

  LongPolls(const LongPolls&) = delete;
  LongPolls& operator=(const LongPolls&) = delete;

  // Parks `*request` from `peer`, started at `started`, if it is a receive
  // whose answer `resp` has no messages and that may wait; returns whether it
  // did, and then `*request` is moved from.
  bool MaybePark(const Peer& peer, pb::Request* request, const pb::Response& resp, Millis started);

  // A request changed `queue` (a send, a visibility change, ...): its parked
  // receives are retried at the next Serve.
  void Touch(const std::string& queue);
  // A tick may have made messages receivable in any queue.
  void TouchAll();

  // Retries the parked receives of the queues touched since the last call,
  // and of those whose timers or waits ran out by `now`; answers those that
  // got messages or an error, or whose wait ended.
  void Serve(Millis now, const Answer& answer);
  // Answers every parked receive with no messages (the broker is stopping).
  void AnswerAll(const Answer& answer);

  // The first time at which Serve has something to do that no request
  // brings: a wait ending, or a timer of a queue someone waits on.
  std::optional<Millis> NextWakeup() const;
  // How many receives are parked.
  size_t size() const;

 private:
  // Retries the parked receives of `queue` in arrival order.
  void ServeQueue(const std::string& queue, Millis now, const Answer& answer);

  Engine* const engine_;
  std::map<std::string, std::deque<Waiter>> waiters_;  // by queue name
  std::set<std::string> touched_;                      // since waiters were last served
};

}  // namespace sluice

#endif  // SLUICE_BROKER_SERVER_LONG_POLLS_H_
