// Backoff: how long to wait before retrying something that failed for a
// reason that may pass (a broker restarting, a disk briefly full).
// Exponential from `initial` to `max`, each wait drawn uniformly between half
// the current step and the step, so that a fleet does not retry in lockstep.
#ifndef SLUICE_COMMON_BACKOFF_H_
#define SLUICE_COMMON_BACKOFF_H_

#include <cstdint>
#include <random>

#include "common/clock.h"

namespace sluice {

class Backoff {
 public:
  Backoff(Millis initial, Millis max, uint64_t seed = std::random_device{}())
      : initial_(initial), max_(max), step_(initial), rng_(seed) {}

  // The next wait, at least 1 ms; each call doubles the step up to max.
  Millis Next() {
    std::uniform_int_distribution<Millis> draw(step_ / 2, step_);
    const Millis wait = draw(rng_);
    step_ = step_ > max_ / 2 ? max_ : step_ * 2;
    return wait > 0 ? wait : 1;
  }
  void Reset() { step_ = initial_; }

 private:
  Millis initial_;
  Millis max_;
  Millis step_;
  std::mt19937_64 rng_;
};

}  // namespace sluice

#endif  // SLUICE_COMMON_BACKOFF_H_
