#include "broker/storage/file_ops.h"

#include <fcntl.h>
#include <unistd.h>

namespace sluice {
namespace {

class SystemFileOps final : public FileOps {
 public:
  ssize_t Write(int fd, const void* data, size_t size) override { return ::write(fd, data, size); }
  int Fallocate(int fd, int mode, off_t offset, off_t length) override {
    return ::fallocate(fd, mode, offset, length);
  }
  int Fdatasync(int fd) override { return ::fdatasync(fd); }
};

}  // namespace

FileOps* FileOps::System() {
  static SystemFileOps system;
  return &system;
}

}  // namespace sluice
