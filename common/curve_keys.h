// CURVE keys, as ZeroMQ's CurveZMQ uses them: 32-byte Curve25519 keys written
// as 40 characters of Z85. The broker holds a secret key whose public half its
// clients are given; each client holds a secret key whose public half is
// listed for its principal in the broker's principals file.
//
// A key file holds the key on its first line; white space around it is
// ignored, as a Kubernetes Secret mounted as a file may end in a newline.
#ifndef SLUICE_COMMON_CURVE_KEYS_H_
#define SLUICE_COMMON_CURVE_KEYS_H_

#include <string>
#include <string_view>

#include "common/status.h"

namespace sluice {

constexpr size_t kCurveKeyChars = 40;

struct CurveKeyPair {
  std::string public_key;  // Z85
  std::string secret_key;  // Z85
};

// Whether `key` is 40 characters of Z85 (so a 32-byte key).
bool IsCurveKey(std::string_view key);

// A fresh key pair from the system's randomness.
Result<CurveKeyPair> NewCurveKeyPair();

// The public key of `secret_key`; InvalidArgument when it is not a key.
Result<std::string> CurvePublicKeyOf(std::string_view secret_key);

// The key in the file at `path`; InvalidArgument naming `what` (the flag or
// variable that named the file) when it is unreadable or not a key.
Result<std::string> ReadCurveKeyFile(const std::string& path, std::string_view what);

}  // namespace sluice

#endif  // SLUICE_COMMON_CURVE_KEYS_H_
