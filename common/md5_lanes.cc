#include "common/md5_lanes.h"

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SLUICE_MD5_LANES_X86 1
#endif

namespace sluice {

#ifdef SLUICE_MD5_LANES_X86
namespace {

constexpr int kLanes = kMd5Lanes;
constexpr size_t kBlockBytes = 64;

// RFC 1321: the additive constants and the rotations of the 64 steps.
constexpr uint32_t kK[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
constexpr int kShift[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};
constexpr uint32_t kInit[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};

// One input's blocks: the whole ones are read in place, the last one or two
// (the rest of the input, 0x80, zeros and the bit length) from `tail`.
struct LaneInput {
  const uint8_t* data;
  size_t whole_blocks;
  size_t blocks;
  alignas(32) uint8_t tail[2 * kBlockBytes];

  void Prepare(std::string_view input) {
    data = reinterpret_cast<const uint8_t*>(input.data());
    whole_blocks = input.size() / kBlockBytes;
    const size_t rest = input.size() % kBlockBytes;
    const size_t tail_blocks = rest + 9 <= kBlockBytes ? 1 : 2;
    blocks = whole_blocks + tail_blocks;
    std::memset(tail, 0, sizeof(tail));
    if (rest > 0) std::memcpy(tail, data + whole_blocks * kBlockBytes, rest);
    tail[rest] = 0x80;
    const uint64_t bits = static_cast<uint64_t>(input.size()) * 8;
    for (int i = 0; i < 8; ++i) {
      tail[tail_blocks * kBlockBytes - 8 + i] = static_cast<uint8_t>(bits >> (8 * i));
    }
  }
  // Block `b`; past the input's last block, any block (its result is dropped).
  const uint8_t* Block(size_t b) const {
    if (b < whole_blocks) return data + b * kBlockBytes;
    return tail + std::min(b - whole_blocks, blocks - whole_blocks - 1) * kBlockBytes;
  }
};

uint32_t Load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);  // MD5 words are little-endian, as is x86
  return v;
}

__attribute__((target("avx2"))) __m256i Rotl(__m256i x, int s) {
  return _mm256_or_si256(_mm256_slli_epi32(x, s), _mm256_srli_epi32(x, 32 - s));
}

}  // namespace

bool Md5LanesAvailable() {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  return avx2;
}

// Unused lanes hash an empty input.
__attribute__((target("avx2"))) void Md5Lanes(const std::string_view* inputs, int n,
                                              Md5Digest* out) {
  LaneInput lanes[kLanes];
  size_t most_blocks = 0;
  for (int l = 0; l < kLanes; ++l) {
    lanes[l].Prepare(l < n ? inputs[l] : std::string_view());
    most_blocks = std::max(most_blocks, lanes[l].blocks);
  }
  __m256i state[4];
  for (int i = 0; i < 4; ++i) state[i] = _mm256_set1_epi32(static_cast<int>(kInit[i]));

  for (size_t b = 0; b < most_blocks; ++b) {
    const uint8_t* p[kLanes];
    int32_t active[kLanes];  // all ones in the lanes whose input has block b
    for (int l = 0; l < kLanes; ++l) {
      p[l] = lanes[l].Block(b);
      active[l] = b < lanes[l].blocks ? -1 : 0;
    }
    __m256i m[16];
    for (int w = 0; w < 16; ++w) {
      const int o = 4 * w;
      m[w] =
          _mm256_setr_epi32(static_cast<int>(Load32(p[0] + o)), static_cast<int>(Load32(p[1] + o)),
                            static_cast<int>(Load32(p[2] + o)), static_cast<int>(Load32(p[3] + o)),
                            static_cast<int>(Load32(p[4] + o)), static_cast<int>(Load32(p[5] + o)),
                            static_cast<int>(Load32(p[6] + o)), static_cast<int>(Load32(p[7] + o)));
    }
    __m256i a = state[0], bb = state[1], c = state[2], d = state[3];
    const __m256i ones = _mm256_set1_epi32(-1);
    // Unrolled, the shifts and message word indexes are constants.
#pragma GCC unroll 64
    for (int i = 0; i < 64; ++i) {
      __m256i f;
      int g;
      if (i < 16) {
        f = _mm256_or_si256(_mm256_and_si256(bb, c), _mm256_andnot_si256(bb, d));
        g = i;
      } else if (i < 32) {
        f = _mm256_or_si256(_mm256_and_si256(d, bb), _mm256_andnot_si256(d, c));
        g = (5 * i + 1) % 16;
      } else if (i < 48) {
        f = _mm256_xor_si256(_mm256_xor_si256(bb, c), d);
        g = (3 * i + 5) % 16;
      } else {
        f = _mm256_xor_si256(c, _mm256_or_si256(bb, _mm256_xor_si256(d, ones)));
        g = (7 * i) % 16;
      }
      f = _mm256_add_epi32(_mm256_add_epi32(f, a),
                           _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(kK[i])), m[g]));
      a = d;
      d = c;
      c = bb;
      bb = _mm256_add_epi32(bb, Rotl(f, kShift[i / 16][i % 4]));
    }
    // Only the active lanes take the block; the others keep their state.
    const __m256i update = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(active));
    const __m256i sums[4] = {a, bb, c, d};
    for (int i = 0; i < 4; ++i) {
      state[i] = _mm256_blendv_epi8(state[i], _mm256_add_epi32(state[i], sums[i]), update);
    }
  }
  alignas(32) uint32_t words[4][kLanes];
  for (int i = 0; i < 4; ++i) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(words[i]), state[i]);
  }
  for (int l = 0; l < n; ++l) {
    for (int i = 0; i < 4; ++i) std::memcpy(out[l].data() + 4 * i, &words[i][l], 4);
  }
}

#else
// Elsewhere callers hash one by one, as Md5LanesAvailable() says.
bool Md5LanesAvailable() { return false; }
void Md5Lanes(const std::string_view*, int, Md5Digest*) { std::abort(); }
#endif

}  // namespace sluice
