#include "common/curve_keys.h"

#include <zmq.h>

#include <algorithm>
#include <array>
#include <fstream>

namespace sluice {
namespace {

constexpr std::string_view kZ85Alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

std::string_view Trim(std::string_view s) {
  const size_t begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  const size_t end = s.find_last_not_of(" \t\r\n");
  return s.substr(begin, end - begin + 1);
}

}  // namespace

bool IsCurveKey(std::string_view key) {
  if (key.size() != kCurveKeyChars) return false;
  if (!std::all_of(key.begin(), key.end(),
                   [](char c) { return kZ85Alphabet.find(c) != std::string_view::npos; })) {
    return false;
  }
  // Every group of five characters must stand for a number below 2^32.
  std::array<uint8_t, 32> decoded{};
  const std::string terminated(key);
  return zmq_z85_decode(decoded.data(), terminated.c_str()) != nullptr;
}

Result<CurveKeyPair> NewCurveKeyPair() {
  std::array<char, kCurveKeyChars + 1> public_key{};
  std::array<char, kCurveKeyChars + 1> secret_key{};
  if (zmq_curve_keypair(public_key.data(), secret_key.data()) != 0) {
    return Status(StatusCode::kInternalError,
                  std::string("cannot make a CURVE key pair: ") + zmq_strerror(zmq_errno()));
  }
  return CurveKeyPair{public_key.data(), secret_key.data()};
}

Result<std::string> CurvePublicKeyOf(std::string_view secret_key) {
  if (!IsCurveKey(secret_key)) {
    return Status(StatusCode::kInvalidArgument, "not a CURVE key (40 characters of Z85)");
  }
  std::array<char, kCurveKeyChars + 1> public_key{};
  const std::string secret(secret_key);
  if (zmq_curve_public(public_key.data(), secret.c_str()) != 0) {
    return Status(StatusCode::kInvalidArgument,
                  std::string("cannot derive the public key: ") + zmq_strerror(zmq_errno()));
  }
  return std::string(public_key.data());
}

Result<std::string> ReadCurveKeyFile(const std::string& path, std::string_view what) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) {
    return Status(StatusCode::kInvalidArgument,
                  std::string(what) + ": cannot read a key from " + path);
  }
  const std::string_view key = Trim(line);
  if (!IsCurveKey(key)) {
    return Status(StatusCode::kInvalidArgument, std::string(what) + ": the first line of " + path +
                                                    " is not a CURVE key (40 characters of Z85)");
  }
  return std::string(key);
}

}  // namespace sluice
