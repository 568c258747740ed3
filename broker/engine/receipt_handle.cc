#include "broker/engine/receipt_handle.h"

#include <charconv>

namespace sluice {
namespace {

// splitmix64's finaliser: a fast, well-mixed 64-bit hash step. The seal is an
// integrity check against typos and guessing, not a cryptographic MAC: a client
// that can reach the broker may already delete any message it can receive.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

bool ParseHex(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 16) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out, 16);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

uint64_t ReceiptHandleCodec::Seal(const ReceiptHandle& h) const {
  return Mix(Mix(Mix(secret_ ^ h.queue_incarnation) ^ h.message_seq) ^ h.receipt_seq);
}

std::string ReceiptHandleCodec::Encode(const ReceiptHandle& h) const {
  // "%llx.%llx.%llx.%016llx", without printf's cost on every receive.
  char buf[80];
  char* p = buf;
  for (uint64_t part : {h.queue_incarnation, h.message_seq, h.receipt_seq}) {
    p = std::to_chars(p, buf + sizeof buf, part, 16).ptr;
    *p++ = '.';
  }
  const uint64_t seal = Seal(h);
  for (int shift = 60; shift >= 0; shift -= 4) *p++ = "0123456789abcdef"[(seal >> shift) & 0xf];
  return std::string(buf, p);
}

std::optional<ReceiptHandle> ReceiptHandleCodec::Decode(std::string_view text) const {
  uint64_t parts[4];
  for (int i = 0; i < 4; ++i) {
    const size_t dot = i < 3 ? text.find('.') : text.size();
    if (dot == std::string_view::npos || !ParseHex(text.substr(0, dot), &parts[i])) {
      return std::nullopt;
    }
    text.remove_prefix(i < 3 ? dot + 1 : dot);
  }
  ReceiptHandle h{parts[0], parts[1], parts[2]};
  if (Seal(h) != parts[3]) return std::nullopt;
  return h;
}

}  // namespace sluice
