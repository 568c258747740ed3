// What every fuzz target shares besides the broker: Check, an oracle's
// verdict (a failed one prints what it expected and aborts, which a fuzzer
// reports as a crash and a replaying test as a failure), and QuietLogs.
#ifndef SLUICE_TESTS_FUZZ_ORACLE_H_
#define SLUICE_TESTS_FUZZ_ORACLE_H_

namespace sluice::fuzz {

// Prints `what` and aborts unless `condition` holds.
void Check(bool condition, const char* what);

// Turns Sluice's and Protocol Buffers' logs off: a fuzzer runs millions of
// inputs, and a warning each would bury its own output.
void QuietLogs();

}  // namespace sluice::fuzz

#endif  // SLUICE_TESTS_FUZZ_ORACLE_H_
