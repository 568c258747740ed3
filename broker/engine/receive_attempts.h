// ReceiveAttempts: a FIFO queue's memory of recent receives by their
// ReceiveRequestAttemptId, so that a receive retried after a lost answer
// gets the same messages, with the same receipt handles, instead of leaving
// them hidden until their visibility timeout ends (sqs-semantics.md). An
// attempt is remembered for 5 minutes, as in SQS.
//
// In memory only: after a restart a retried attempt receives anew, and the
// messages of the lost answer come back when their visibility timeout ends.
#ifndef SLUICE_BROKER_ENGINE_RECEIVE_ATTEMPTS_H_
#define SLUICE_BROKER_ENGINE_RECEIVE_ATTEMPTS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/clock.h"

namespace sluice {

class ReceiveAttempts {
 public:
  static constexpr Millis kWindowMs = 5 * 60 * 1000;

  // A delivered message: its position and the receipt it was given.
  struct Delivery {
    uint64_t seq;
    uint64_t receipt_seq;
  };

  // The deliveries of attempt `id`, if it was made within the window.
  const std::vector<Delivery>* Find(const std::string& id, Millis now) const;
  // Remembers what attempt `id` delivered at `now`; forgets attempts past
  // their window.
  void Remember(const std::string& id, std::vector<Delivery> deliveries, Millis now);

 private:
  struct Attempt {
    Millis expires_at;
    std::vector<Delivery> deliveries;
  };
  std::map<std::string, Attempt> attempts_;
};

}  // namespace sluice

#endif  // SLUICE_BROKER_ENGINE_RECEIVE_ATTEMPTS_H_
