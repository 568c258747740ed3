// FileOps: the file calls by which the log takes disk space and makes it
// durable (write, fallocate, fdatasync), behind an interface, so that tests
// can play a full disk or a short write without root or a filesystem of
// their own. Each behaves as the system call of its name: -1 and errno on
// failure. The log's other calls (open, rename, read, ...) are made
// directly.
#ifndef SLUICE_BROKER_STORAGE_FILE_OPS_H_
#define SLUICE_BROKER_STORAGE_FILE_OPS_H_

#include <sys/types.h>

#include <cstddef>

namespace sluice {

class FileOps {
 public:
  virtual ~FileOps() = default;
  virtual ssize_t Write(int fd, const void* data, size_t size) = 0;
  virtual int Fallocate(int fd, int mode, off_t offset, off_t length) = 0;
  virtual int Fdatasync(int fd) = 0;

  // The system's own calls.
  static FileOps* System();
};

}  // namespace sluice

#endif  // SLUICE_BROKER_STORAGE_FILE_OPS_H_
