// Message digests that SQS clients expect: MD5 of bodies and attributes, and
// SHA-256 for content-based deduplication. Lower-case hex, as SQS prints them.
#ifndef SLUICE_COMMON_DIGEST_H_
#define SLUICE_COMMON_DIGEST_H_

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

std::string Md5Hex(std::string_view data);
// Md5Hex of each input, several at a time where the CPU can (md5_lanes.h).
std::vector<std::string> Md5HexMany(std::span<const std::string_view> inputs);
std::string Sha256Hex(std::string_view data);

}  // namespace sluice

#endif  // SLUICE_COMMON_DIGEST_H_
