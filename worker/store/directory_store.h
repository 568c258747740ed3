// DirectoryStore: buckets as directories, `root/NAME`, and objects as files
// under them, named by keys.
//
// Keys are confined to their bucket: a key that is absolute, has "." or ".."
// or empty components (or ones over 255 bytes, the longest file name), or
// resolves through a symlink to outside the bucket is rejected as kInvalidKey
// (the kernel does the resolution, with openat2's RESOLVE_BENEATH, so there
// is no window between a check and a use). Writes are atomic: a temporary
// file in the target directory, fsync'd, then renamed over the key, so a
// reader sees the old object or the new one, never half of one. I/O failures
// are kStorage (transient); what a job got wrong is permanent.
#ifndef SLUICE_WORKER_STORE_DIRECTORY_STORE_H_
#define SLUICE_WORKER_STORE_DIRECTORY_STORE_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "worker/store/bucket_store.h"

namespace sluice::worker {

// Whether a bucket name or a key is acceptable at all (before any I/O).
bool IsValidBucketName(std::string_view bucket);
bool IsValidKey(std::string_view key);

class DirectoryStore : public BucketStore {
 public:
  explicit DirectoryStore(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }

  Result<std::string, JobError> Read(const std::string& bucket, const std::string& key,
                                     size_t max_bytes) const override;

  // Creates directories as needed.
  Result<bool, JobError> Write(const std::string& bucket, const std::string& key,
                               std::string_view data) const override;

  // One rename, creating directories as needed.
  Result<bool, JobError> Move(const std::string& bucket, const std::string& from,
                              const std::string& to) const override;

 private:
  std::string root_;
};

}  // namespace sluice::worker

#endif  // SLUICE_WORKER_STORE_DIRECTORY_STORE_H_
