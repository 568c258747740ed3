#include "producer/enqueue/upload_watcher.h"

#include <dirent.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sluice {
namespace {

constexpr uint32_t kMask =
    IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ONLYDIR;  // a removed directory sends IN_IGNORED

std::string Join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

}  // namespace

Result<std::unique_ptr<UploadWatcher>> UploadWatcher::Open(const std::string& pending_dir) {
  const int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    return Status(StatusCode::kIOError, std::string("inotify_init1: ") + std::strerror(errno));
  }
  std::unique_ptr<UploadWatcher> watcher(new UploadWatcher(fd, pending_dir));
  watcher->WatchTree("");
  if (watcher->dirs_.empty()) {
    return Status(StatusCode::kIOError,
                  "cannot watch " + pending_dir + ": " + std::strerror(errno));
  }
  return watcher;
}

UploadWatcher::~UploadWatcher() { close(fd_); }

void UploadWatcher::WatchTree(const std::string& relative) {
  const std::string path = relative.empty() ? root_ : root_ + "/" + relative;
  const int wd = inotify_add_watch(fd_, path.c_str(), kMask);
  if (wd < 0) return;  // gone already
  dirs_[wd] = relative;
  DIR* d = opendir(path.c_str());
  if (d == nullptr) return;
  std::vector<std::string> subdirs;
  while (const dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == ".." || name.front() == '.') continue;
    if (e->d_type == DT_DIR) subdirs.push_back(name);
  }
  closedir(d);
  for (const std::string& name : subdirs) WatchTree(Join(relative, name));
}

UploadWatcher::Events UploadWatcher::Wait(std::chrono::milliseconds timeout) {
  Events events;
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return events;
  alignas(inotify_event) char buffer[64 * 1024];
  while (true) {
    const ssize_t n = read(fd_, buffer, sizeof buffer);
    if (n <= 0) break;
    for (ssize_t at = 0; at < n;) {
      const auto* e = reinterpret_cast<const inotify_event*>(buffer + at);
      at += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
      if (e->mask & IN_Q_OVERFLOW) {
        events.rescan = true;
        continue;
      }
      auto dir = dirs_.find(e->wd);
      if (e->mask & IN_IGNORED) {
        if (dir != dirs_.end()) dirs_.erase(dir);
        continue;
      }
      if (dir == dirs_.end() || e->len == 0) continue;
      const std::string name = e->name;
      if (e->mask & IN_ISDIR) {
        if ((e->mask & (IN_CREATE | IN_MOVED_TO)) && name.front() != '.') {
          WatchTree(Join(dir->second, name));
          events.rescan = true;
        }
      } else if (e->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) {
        events.files.push_back(Join(dir->second, name));
      }
    }
  }
  return events;
}

}  // namespace sluice
