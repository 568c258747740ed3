// Clock: where the broker's notion of "now" comes from.
//
// The queue engine never reads the system time itself; it asks a Clock, so
// tests drive time by hand (FakeClock) and every rule about visibility, delay
// and retention is deterministic.
#ifndef SLUICE_COMMON_CLOCK_H_
#define SLUICE_COMMON_CLOCK_H_

#include <cstdint>

namespace sluice {

// Milliseconds since the Unix epoch, the unit of every timestamp in Sluice.
using Millis = int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Millis Now() const = 0;
};

// Wall-clock time from the system.
class SystemClock final : public Clock {
 public:
  Millis Now() const override;
};

// Time that moves only when told to; for tests.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(Millis start = 1'700'000'000'000) : now_(start) {}
  Millis Now() const override { return now_; }
  void Advance(Millis by) { now_ += by; }
  void Set(Millis now) { now_ = now; }

 private:
  Millis now_;
};

}  // namespace sluice

#endif  // SLUICE_COMMON_CLOCK_H_
