// Md5Lanes: MD5 of up to eight inputs at once. SQS answers every send with
// the MD5 of its body, and MD5 is one long chain of dependent steps, so one
// digest after another leaves most of a core's execution units idle. With
// AVX2, eight inputs are hashed side by side, one in each 32-bit lane of the
// vector registers (docs/benchmarks.md has the speed-up). Callers check
// Md5LanesAvailable() and hash one by one without it (common/digest.h).
#ifndef SLUICE_COMMON_MD5_LANES_H_
#define SLUICE_COMMON_MD5_LANES_H_

#include <array>
#include <cstdint>
#include <string_view>

namespace sluice {

using Md5Digest = std::array<uint8_t, 16>;

constexpr int kMd5Lanes = 8;

// Whether this CPU has AVX2, which Md5Lanes needs.
bool Md5LanesAvailable();

// out[i] = MD5(inputs[i]) for i < n, 1 <= n <= kMd5Lanes.
void Md5Lanes(const std::string_view* inputs, int n, Md5Digest* out);

}  // namespace sluice

#endif  // SLUICE_COMMON_MD5_LANES_H_
