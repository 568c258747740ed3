#include "tests/fuzz/oracle.h"

#include <google/protobuf/stubs/logging.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>

namespace sluice::fuzz {

void Check(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "fuzz oracle failed: %s\n", what);
  std::abort();
}

void QuietLogs() {
  spdlog::set_level(spdlog::level::off);
  // Protocol Buffers' own complaints, such as a string field that is not
  // UTF-8 in a frame it refuses (the refusal is what the targets see).
  google::protobuf::SetLogHandler(nullptr);
}

}  // namespace sluice::fuzz
