// DataDir: the broker's data directory, created if missing and locked for the
// life of the process, so two brokers never share one. Storage keeps its
// store inside it.
#ifndef SLUICE_BROKER_STORAGE_DATA_DIR_H_
#define SLUICE_BROKER_STORAGE_DATA_DIR_H_

#include <memory>
#include <string>

#include "common/status.h"

namespace sluice {

class DataDir {
 public:
  // Creates `path` (and its parents) if needed and takes an exclusive lock
  // on `path`/LOCK; fails when another process holds it.
  static Result<std::unique_ptr<DataDir>> Open(const std::string& path);
  ~DataDir();

  DataDir(const DataDir&) = delete;
  DataDir& operator=(const DataDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  DataDir(std::string path, int lock_fd) : path_(std::move(path)), lock_fd_(lock_fd) {}
  std::string path_;
  int lock_fd_;
};

}  // namespace sluice

#endif  // SLUICE_BROKER_STORAGE_DATA_DIR_H_
