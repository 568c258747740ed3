// The fuzz targets in the ordinary test suite: every seed of a target's
// corpus (tests/fuzz/corpus/<target>/) and every input that once crashed it
// (tests/fuzz/regressions/<target>/) is run through the target's entry point,
// the function its libFuzzer binary calls. A crash or a failed oracle aborts
// the test; the path of the input being replayed is printed before it runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/targets.h"

namespace sluice::fuzz {
namespace {

namespace fs = std::filesystem;

struct Target {
  const char* name;
  int (*run)(const uint8_t*, size_t);
};

const Target kTargets[] = {
    {"dispatch", FuzzDispatch},    {"log_replay", FuzzLogReplay}, {"http_request", FuzzHttpRequest},
    {"sqs_decode", FuzzSqsDecode}, {"s3_event", FuzzS3Event},     {"image_sniff", FuzzImageSniff},
};

// The files of `dir`, in name order; none when it does not exist.
std::vector<fs::path> FilesIn(const fs::path& dir) {
  std::vector<fs::path> files;
  if (!fs::is_directory(dir)) return files;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

size_t Replay(const Target& target, const fs::path& dir) {
  const std::vector<fs::path> files = FilesIn(dir);
  for (const fs::path& path : files) {
    std::printf("replaying %s\n", path.c_str());
    std::fflush(stdout);
    std::ifstream in(path, std::ios::binary);
    const std::string data(std::istreambuf_iterator<char>(in), {});
    target.run(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  }
  return files.size();
}

class FuzzReplayTest : public ::testing::TestWithParam<Target> {};

TEST_P(FuzzReplayTest, SeedsRunClean) {
  EXPECT_GT(Replay(GetParam(), fs::path(SLUICE_FUZZ_DIR) / "corpus" / GetParam().name), 0u)
      << "no seeds for " << GetParam().name;
}

TEST_P(FuzzReplayTest, InputsThatOnceCrashedRunClean) {
  Replay(GetParam(), fs::path(SLUICE_FUZZ_DIR) / "regressions" / GetParam().name);
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzReplayTest, ::testing::ValuesIn(kTargets),
                         [](const ::testing::TestParamInfo<Target>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace sluice::fuzz
