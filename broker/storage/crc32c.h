// Crc32c: the CRC-32C (Castagnoli) checksum the broker's log puts on every
// record, so that recovery can tell a record written whole from a torn or
// damaged one. Uses the CPU's crc32 instruction when it has one (SSE4.2),
// else a table.
#ifndef SLUICE_BROKER_STORAGE_CRC32C_H_
#define SLUICE_BROKER_STORAGE_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace sluice {

// The CRC-32C of `n` bytes at `data`, continuing from `crc` (0 to start).
uint32_t Crc32c(const void* data, size_t n, uint32_t crc = 0);

}  // namespace sluice

#endif  // SLUICE_BROKER_STORAGE_CRC32C_H_
