// Digests: MD5 several at a time (md5_lanes.h) gives what OpenSSL gives one
// at a time, at every length around MD5's padding boundaries and for every
// batch size around the eight lanes.
#include "common/digest.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/md5_lanes.h"

namespace sluice::testing {
namespace {

TEST(DigestTest, Md5HexManyGivesTheRfc1321TestSuite) {
  const std::vector<std::string_view> inputs = {
      "",
      "a",
      "abc",
      "message digest",
      "abcdefghijklmnopqrstuvwxyz",
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
      "12345678901234567890123456789012345678901234567890123456789012345678901234567890"};
  const std::vector<std::string> expected = {
      "d41d8cd98f00b204e9800998ecf8427e", "0cc175b9c0f1b6a831c399e269772661",
      "900150983cd24fb0d6963f7d28e17f72", "f96b697d7cb7938d525a2f31aaf161d0",
      "c3fcd3d76192e4007dfb496cca67e13b", "d174ab98d277d9f5a5611c2c9f419d9f",
      "57edf4a22be3c955ac49da2e2107b67a"};
  EXPECT_EQ(Md5HexMany(inputs), expected);
  for (size_t i = 0; i < inputs.size(); ++i) EXPECT_EQ(Md5Hex(inputs[i]), expected[i]);
}

// Lengths at and around the block (64) and padding (56) boundaries, and
// bodies of the benchmark's size.
std::vector<size_t> InterestingLengths() {
  std::vector<size_t> lengths;
  for (size_t n = 0; n <= 200; ++n) lengths.push_back(n);
  for (size_t n = 1000; n <= 1100; n += 7) lengths.push_back(n);
  lengths.push_back(64 << 10);
  lengths.push_back((256 << 10) + 55);
  return lengths;
}

TEST(DigestTest, Md5HexManyMatchesOneByOneForEveryBatchSizeAndMixedLengths) {
  // Without AVX2 both sides are OpenSSL's; say so in the test's output.
  RecordProperty("md5_lanes", Md5LanesAvailable() ? "avx2" : "none");
  std::mt19937 rng(20261202);
  const std::vector<size_t> lengths = InterestingLengths();
  for (int batch = 1; batch <= 2 * kMd5Lanes + 1; ++batch) {
    for (int round = 0; round < 20; ++round) {
      std::vector<std::string> data;
      for (int i = 0; i < batch; ++i) {
        std::string s(lengths[rng() % lengths.size()], '\0');
        for (char& c : s) c = static_cast<char>(rng());
        data.push_back(std::move(s));
      }
      const std::vector<std::string_view> views(data.begin(), data.end());
      const std::vector<std::string> many = Md5HexMany(views);
      ASSERT_EQ(many.size(), data.size());
      for (int i = 0; i < batch; ++i) {
        ASSERT_EQ(many[i], Md5Hex(data[i]))
            << "batch " << batch << ", input " << i << " of " << data[i].size() << " bytes";
      }
    }
  }
}

TEST(DigestTest, Md5LanesMatchesOneByOneWhenEveryLaneHasTheSameLength) {
  if (!Md5LanesAvailable()) GTEST_SKIP() << "this CPU has no AVX2";
  for (size_t length : InterestingLengths()) {
    std::vector<std::string> data;
    for (int l = 0; l < kMd5Lanes; ++l)
      data.push_back(std::string(length, static_cast<char>('a' + l)));
    const std::vector<std::string_view> views(data.begin(), data.end());
    Md5Digest out[kMd5Lanes];
    Md5Lanes(views.data(), kMd5Lanes, out);
    Md5Digest alone;
    Md5Lanes(views.data(), 1, &alone);
    EXPECT_EQ(alone, out[0]) << "one lane, " << length << " bytes";
    for (int l = 0; l < kMd5Lanes; ++l) {
      std::string hex;
      for (uint8_t byte : out[l]) {
        hex += "0123456789abcdef"[byte >> 4];
        hex += "0123456789abcdef"[byte & 0xf];
      }
      ASSERT_EQ(hex, Md5Hex(data[l])) << "lane " << l << ", " << length << " bytes";
    }
  }
}

}  // namespace
}  // namespace sluice::testing
