// Backoff: jittered exponential waits between retries (common/backoff.h).
#include "common/backoff.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace sluice {
namespace {

// The step before each call of Next: doubling from `initial`, capped at `max`.
std::vector<Millis> Steps(Millis initial, Millis max, int n) {
  std::vector<Millis> steps;
  Millis step = initial;
  for (int i = 0; i < n; ++i) {
    steps.push_back(step);
    step = std::min(step * 2, max);
  }
  return steps;
}

TEST(BackoffTest, EachWaitIsBetweenHalfTheStepAndTheStep) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    Backoff backoff(100, 5'000, seed);
    for (Millis step : Steps(100, 5'000, 12)) {
      const Millis wait = backoff.Next();
      EXPECT_GE(wait, step / 2) << "seed " << seed;
      EXPECT_LE(wait, step) << "seed " << seed;
    }
  }
}

TEST(BackoffTest, WaitsAreCappedAtMax) {
  Backoff backoff(100, 1'000, 7);
  for (int i = 0; i < 100; ++i) EXPECT_LE(backoff.Next(), 1'000);
  // Once at the cap the step stays there: every wait is in [max/2, max].
  for (int i = 0; i < 100; ++i) EXPECT_GE(backoff.Next(), 500);
}

TEST(BackoffTest, CapThatIsNotAPowerOfTwoOfInitial) {
  Backoff backoff(100, 750, 3);
  for (Millis step : {100, 200, 400, 750, 750, 750}) {
    const Millis wait = backoff.Next();
    EXPECT_GE(wait, step / 2);
    EXPECT_LE(wait, step);
  }
}

// Over many seeds, the waits of later attempts are larger than earlier ones.
TEST(BackoffTest, WaitsGrow) {
  double first = 0, fifth = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    Backoff backoff(100, 100'000, seed);
    first += static_cast<double>(backoff.Next());
    for (int i = 0; i < 3; ++i) backoff.Next();
    fifth += static_cast<double>(backoff.Next());
  }
  // Step 1600 against step 100: every 5th wait is at least 800, every first
  // at most 100.
  EXPECT_GT(fifth, 4 * first);
}

TEST(BackoffTest, ResetReturnsToInitial) {
  Backoff backoff(100, 10'000, 11);
  for (int i = 0; i < 10; ++i) backoff.Next();
  backoff.Reset();
  const Millis wait = backoff.Next();
  EXPECT_GE(wait, 50);
  EXPECT_LE(wait, 100);
}

TEST(BackoffTest, SameSeedGivesTheSameSequence) {
  Backoff a(100, 60'000, 42), b(100, 60'000, 42);
  std::vector<Millis> from_a, from_b;
  for (int i = 0; i < 20; ++i) {
    from_a.push_back(a.Next());
    from_b.push_back(b.Next());
  }
  EXPECT_EQ(from_a, from_b);
}

// Jitter is what keeps a fleet from retrying in lockstep.
TEST(BackoffTest, DifferentSeedsGiveDifferentSequences) {
  Backoff a(1'000, 60'000, 1), b(1'000, 60'000, 2);
  std::vector<Millis> from_a, from_b;
  for (int i = 0; i < 10; ++i) {
    from_a.push_back(a.Next());
    from_b.push_back(b.Next());
  }
  EXPECT_NE(from_a, from_b);
}

TEST(BackoffTest, WaitIsAtLeastOneMillisecond) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Backoff backoff(1, 1, seed);
    for (int i = 0; i < 10; ++i) EXPECT_GE(backoff.Next(), 1);
  }
}

}  // namespace
}  // namespace sluice
