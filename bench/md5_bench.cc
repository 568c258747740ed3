// sluice-md5-bench: the MD5 of a send batch's bodies, one by one with
// OpenSSL against Md5HexMany (eight at a time in AVX2 lanes, the rest one by
// one), in one run so that the machine's noise hits both alike. Prints
// microseconds per body for each, and the ratio.
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "common/digest.h"
#include "common/md5_lanes.h"

int main() {
  using Clock = std::chrono::steady_clock;
  constexpr int kBatch = 10;       // a full SendMessageBatch
  constexpr size_t kBytes = 1024;  // issue #4's bodies
  constexpr int kRounds = 50000;
  std::vector<std::string> bodies;
  for (int i = 0; i < kBatch; ++i)
    bodies.push_back(std::string(kBytes, static_cast<char>('a' + i)));
  const std::vector<std::string_view> views(bodies.begin(), bodies.end());
  size_t sink = 0;  // keeps the digests from being optimized away
  auto per_body_us = [&](auto&& hash_batch) {
    const auto start = Clock::now();
    for (int r = 0; r < kRounds; ++r) sink += hash_batch();
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / kRounds /
           kBatch;
  };
  for (int pass = 0; pass < 3; ++pass) {
    const double one_by_one = per_body_us([&] {
      size_t n = 0;
      for (std::string_view b : views) n += sluice::Md5Hex(b)[0];
      return n;
    });
    const double many =
        per_body_us([&] { return static_cast<size_t>(sluice::Md5HexMany(views)[0][0]); });
    std::printf(
        "pass=%d body_bytes=%zu batch=%d lanes=%s openssl_us_per_body=%.3f "
        "md5_hex_many_us_per_body=%.3f speedup=%.2f\n",
        pass, kBytes, kBatch, sluice::Md5LanesAvailable() ? "avx2" : "none", one_by_one, many,
        one_by_one / many);
  }
  return sink == 0 ? 1 : 0;
}
