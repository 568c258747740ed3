// The fuzz targets' entry points: each takes one input, runs it through the
// code it fuzzes and returns 0; a crash, a sanitizer's report or a failed
// oracle (fuzz_broker.h, Check) is a finding. libfuzzer_main.cc makes each a
// libFuzzer binary (SLUICE_FUZZ=ON builds, scripts/fuzz.sh), and
// regressions_test.cc replays the seeds and every input that once crashed
// through the same functions in the ordinary test suite. docs/fuzzing.md
// describes each target's input.
#ifndef SLUICE_TESTS_FUZZ_TARGETS_H_
#define SLUICE_TESTS_FUZZ_TARGETS_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sluice::fuzz {

// Wire frames, split by kFrameSeparator, through Dispatch (dispatch_target.cc).
int FuzzDispatch(const uint8_t* data, size_t size);
// A log segment, recovered (log_replay_target.cc).
int FuzzLogReplay(const uint8_t* data, size_t size);
// HTTP/1.1 requests, parsed by Boost.Beast and decoded (http_request_target.cc).
int FuzzHttpRequest(const uint8_t* data, size_t size);
// One call's members in either SQS protocol, decoded (sqs_decode_target.cc).
int FuzzSqsDecode(const uint8_t* data, size_t size);
// An S3 event notification's body (s3_event_target.cc).
int FuzzS3Event(const uint8_t* data, size_t size);
// An object for the worker to resize (image_sniff_target.cc).
int FuzzImageSniff(const uint8_t* data, size_t size);

// Between two frames of a dispatch input; each frame's first byte is how
// many seconds the clock moves before it, the rest a serialized pb::Request.
inline constexpr std::string_view kFrameSeparator = "\n--frame--\n";

}  // namespace sluice::fuzz

#endif  // SLUICE_TESTS_FUZZ_TARGETS_H_
