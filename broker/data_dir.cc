#include "broker/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace sluice {
namespace {

// fsyncs a directory, making the names of the entries made in it durable.
bool SyncDirectory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const bool synced = fd >= 0 && ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  return synced;
}

}  // namespace

Result<std::unique_ptr<DataDir>> DataDir::Open(const std::string& path) {
  std::error_code ec;
  // The directories made here are synced into their parents: a crash of the
  // machine must not take the data directory's name, and with it everything
  // acknowledged inside, away.
  std::vector<std::filesystem::path> made;
  for (auto p = std::filesystem::absolute(path, ec);
       !ec && p != p.parent_path() && !std::filesystem::exists(p, ec); p = p.parent_path()) {
    made.push_back(p);
  }
  if (!ec) std::filesystem::create_directories(path, ec);
  if (ec) {
    return Status(pb::INTERNAL_ERROR, "cannot create data directory " + path + ": " + ec.message());
  }
  for (const std::filesystem::path& dir : made) {
    if (!SyncDirectory(dir.parent_path())) {
      return Status(pb::INTERNAL_ERROR, "cannot sync the directory holding " + dir.string() + ": " +
                                            std::strerror(errno));
    }
  }
  const std::string lock_path = path + "/LOCK";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status(pb::INTERNAL_ERROR, "cannot open " + lock_path + ": " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    return Status(pb::INTERNAL_ERROR,
                  err == EWOULDBLOCK ? "data directory " + path + " is in use by another broker"
                                     : "cannot lock " + lock_path + ": " + std::strerror(err));
  }
  return std::unique_ptr<DataDir>(new DataDir(path, fd));
}

DataDir::~DataDir() { ::close(lock_fd_); }

}  // namespace sluice
