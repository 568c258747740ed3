// Message digests that SQS clients expect: MD5 of bodies and attributes, and
// SHA-256 for content-based deduplication. Lower-case hex, as SQS prints them.
#ifndef SLUICE_COMMON_DIGEST_H_
#define SLUICE_COMMON_DIGEST_H_

#include <string>
#include <string_view>

namespace sluice {

std::string Md5Hex(std::string_view data);
std::string Sha256Hex(std::string_view data);

}  // namespace sluice

#endif  // SLUICE_COMMON_DIGEST_H_
