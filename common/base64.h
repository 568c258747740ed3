// Base64 (RFC 4648, standard alphabet, padded), the text form of binary
// message attribute values on the command line, in its output and in SQS's
// HTTP protocols.
#ifndef SLUICE_COMMON_BASE64_H_
#define SLUICE_COMMON_BASE64_H_

#include <string>
#include <string_view>

#include "common/status.h"

namespace sluice {

std::string Base64Encode(std::string_view bytes);

// Strict: the length must be a multiple of 4, padding only at the end, no
// whitespace. Fails with InvalidParameterValue otherwise.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace sluice

#endif  // SLUICE_COMMON_BASE64_H_
