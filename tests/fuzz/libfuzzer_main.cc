// libFuzzer's entry point for one target: SLUICE_FUZZ_ENTRY names its
// function in targets.h (tests/fuzz/CMakeLists.txt builds one binary each).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return sluice::fuzz::SLUICE_FUZZ_ENTRY(data, size);
}
