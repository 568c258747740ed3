// UploadWatcher: tells a --watch producer when uploads arrive in pending/,
// with inotify on pending/ and every directory under it.
//
// A file is reported when it is complete: when its writer closes it after
// writing (IN_CLOSE_WRITE) or when it is renamed or moved in (IN_MOVED_TO),
// which is how a file written under a temporary name is published. A new
// directory is watched as soon as it is seen, and asks for a rescan, since
// files may have landed in it before its watch existed; so does an event
// queue overflow. The caller filters temporary names (IsTemporaryName).
#ifndef SLUICE_PRODUCER_ENQUEUE_UPLOAD_WATCHER_H_
#define SLUICE_PRODUCER_ENQUEUE_UPLOAD_WATCHER_H_

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace sluice {

class UploadWatcher {
 public:
  // Watches `pending_dir` (which must exist) and its subdirectories.
  static Result<std::unique_ptr<UploadWatcher>> Open(const std::string& pending_dir);
  ~UploadWatcher();

  struct Events {
    std::vector<std::string> files;  // relative to pending/, in arrival order
    bool rescan = false;
  };
  // Waits up to `timeout` for something to happen.
  Events Wait(std::chrono::milliseconds timeout);

 private:
  UploadWatcher(int fd, std::string root) : fd_(fd), root_(std::move(root)) {}
  // Watches `relative` ("" for pending/ itself) and what is under it.
  void WatchTree(const std::string& relative);

  int fd_;
  std::string root_;
  std::map<int, std::string> dirs_;  // watch descriptor -> relative directory
};

}  // namespace sluice

#endif  // SLUICE_PRODUCER_ENQUEUE_UPLOAD_WATCHER_H_
