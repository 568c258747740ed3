#include "broker/storage/durable_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace sluice {

Status MakeDurableDirectory(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> made;  // deepest first
  for (auto p = fs::absolute(path, ec); !ec && p != p.parent_path() && !fs::exists(p, ec);
       p = p.parent_path()) {
    made.push_back(p);
  }
  if (!ec) fs::create_directories(path, ec);
  if (ec) return Status(StatusCode::kIOError, "cannot create " + path + ": " + ec.message());
  for (const fs::path& dir : made) {
    const int fd = ::open(dir.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const bool synced = fd >= 0 && ::fsync(fd) == 0;
    const int err = errno;
    if (fd >= 0) ::close(fd);
    if (!synced) {
      return Status(StatusCode::kIOError, "cannot sync the directory holding " + dir.string() +
                                              ": " + std::strerror(err));
    }
  }
  return Status::Ok();
}

}  // namespace sluice
