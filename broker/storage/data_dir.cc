#include "broker/storage/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "broker/storage/durable_dir.h"

namespace sluice {

Result<std::unique_ptr<DataDir>> DataDir::Open(const std::string& path) {
  if (Status s = MakeDurableDirectory(path); !s.ok()) {
    return Status(s.code(), "cannot set up the data directory: " + s.detail());
  }
  const std::string lock_path = path + "/LOCK";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status(StatusCode::kIOError, "cannot open " + lock_path + ": " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    return Status(StatusCode::kIOError,
                  err == EWOULDBLOCK ? "data directory " + path + " is in use by another broker"
                                     : "cannot lock " + lock_path + ": " + std::strerror(err));
  }
  return std::unique_ptr<DataDir>(new DataDir(path, fd));
}

DataDir::~DataDir() { ::close(lock_fd_); }

}  // namespace sluice
