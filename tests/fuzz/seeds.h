// The seed corpora's makers (sluice-fuzz-seeds, make_seeds.cc): each writes
// the seeds of one or two targets into `dir`/<target>/ from what the tests
// use, real sessions with the broker included. Seeds are small (a few KiB).
// Running the maker again gives the same files but for the log segments,
// which hold a new receipt-handle key each time.
#ifndef SLUICE_TESTS_FUZZ_SEEDS_H_
#define SLUICE_TESTS_FUZZ_SEEDS_H_

#include <filesystem>
#include <string>
#include <string_view>

namespace sluice::fuzz {

// Writes `data` to `dir`/`target`/`name`, creating the directories.
void WriteSeed(const std::filesystem::path& dir, std::string_view target, std::string_view name,
               std::string_view data);

// dispatch: sessions of wire frames (seeds_wire.cc).
void MakeDispatchSeeds(const std::filesystem::path& dir);
// log_replay: segments that a broker wrote (seeds_log.cc).
void MakeLogReplaySeeds(const std::filesystem::path& dir);
// http_request and sqs_decode: calls in both protocols (seeds_http.cc).
void MakeHttpSeeds(const std::filesystem::path& dir);
// s3_event: the captured event bodies of tests/unit/common/s3/testdata and
// jobs; image_sniff: small images of each format and damaged ones
// (seeds_files.cc).
void MakeS3EventSeeds(const std::filesystem::path& dir, const std::filesystem::path& source);
void MakeImageSeeds(const std::filesystem::path& dir, const std::filesystem::path& source);

}  // namespace sluice::fuzz

#endif  // SLUICE_TESTS_FUZZ_SEEDS_H_
