// NoDiskWaits: the log's file calls (broker/storage/file_ops.h) without
// reserving 72 MiB of blocks per segment or waiting for the disk. Recovery
// and writing follow the same logic, and a fuzzer recovers thousands of logs
// a second; durability is not what the fuzz targets test.
#ifndef SLUICE_TESTS_FUZZ_NO_DISK_WAITS_H_
#define SLUICE_TESTS_FUZZ_NO_DISK_WAITS_H_

#include <unistd.h>

#include "broker/storage/file_ops.h"

namespace sluice::fuzz {

class NoDiskWaits final : public FileOps {
 public:
  ssize_t Write(int fd, const void* data, size_t size) override { return ::write(fd, data, size); }
  int Fallocate(int, int, off_t, off_t) override { return 0; }
  int Fdatasync(int) override { return 0; }
};

}  // namespace sluice::fuzz

#endif  // SLUICE_TESTS_FUZZ_NO_DISK_WAITS_H_
