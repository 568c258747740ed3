// Fixed-width little-endian integers, byte by byte, so that what the log
// holds does not depend on the machine or on a struct's layout. The log's
// batch headers and the records' fixed parts are made of these.
#ifndef SLUICE_BROKER_STORAGE_CODING_H_
#define SLUICE_BROKER_STORAGE_CODING_H_

#include <cstdint>
#include <string_view>

namespace sluice {

inline void EncodeFixed32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}

inline void EncodeFixed64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}

inline uint32_t DecodeFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}

inline uint64_t DecodeFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}

}  // namespace sluice

#endif  // SLUICE_BROKER_STORAGE_CODING_H_
