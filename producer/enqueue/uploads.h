// Uploads: the files waiting in a bucket, and the rename that claims one
// (common/bucket_layout.h). The claim moves it from pending/ to queued/:
// rename is atomic, so of two producers that see the same file exactly one
// moves it, and the other finds it gone and skips it. Which claimed uploads
// have had their job sent is the sent journal's (producer/enqueue/sent_journal.h).
//
// A file counts as an upload once it is completely written: a regular file
// whose name is not a temporary one (a dot-file, or ending in .part, .tmp,
// .partial, .crdownload, .swp or ~), in a directory that is not a dot-one.
// Writers that follow the convention write under a temporary name and rename
// when done; a --watch producer also waits for the writer to close the file.
#ifndef SLUICE_PRODUCER_ENQUEUE_UPLOADS_H_
#define SLUICE_PRODUCER_ENQUEUE_UPLOADS_H_

#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sluice {

struct Upload {
  std::string path;  // relative to the state's prefix: "trip/cat.jpg"
  uint64_t size = 0;
  int64_t mtime_ns = 0;   // on S3, the object's LastModified
  uint64_t inode = 0;     // 0 on S3
  std::string etag = {};  // S3 only
};

bool IsTemporaryName(std::string_view name);

// How a claim went.
enum class ClaimResult { kClaimed, kGone, kFailed };

class BucketUploads {
 public:
  // `bucket_dir` is --bucket-root/NAME.
  explicit BucketUploads(std::string bucket_dir) : dir_(std::move(bucket_dir)) {}

  const std::string& dir() const { return dir_; }

  // Every complete upload under `prefix` ("pending/" or "queued/"), in name
  // order, depth first; `skipped` (when not null) counts what is there but is
  // not an upload (symlinks, devices, temporary names).
  std::vector<Upload> List(const std::string& prefix, size_t* skipped) const;
  // The upload at `prefix` + `path`, if it is one.
  bool Stat(const std::string& prefix, const std::string& path, Upload* out) const;

  // pending/<path> to queued/<path>. kGone when another producer (or a
  // worker) moved it first; kFailed, with `error` set, when it cannot be
  // read or an earlier upload of the same path is still in queued/.
  ClaimResult Claim(const Upload& upload, std::string* error);

 private:
  // mkdir -p of the directory part of `key`, remembered once made.
  Status MakeParents(const std::string& key);

  std::string dir_;
  std::mutex made_mu_;
  std::set<std::string> made_dirs_;
};

}  // namespace sluice

#endif  // SLUICE_PRODUCER_ENQUEUE_UPLOADS_H_
