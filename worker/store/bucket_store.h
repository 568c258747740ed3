// BucketStore: where a worker reads originals and writes outputs. A bucket
// holds objects named by keys ("pending/a/cat.jpg"); two kinds implement it:
// directories on a file system (directory_store.h, the default) and S3
// buckets (s3_store.h).
//
// Every method may be called from several job threads at once. Failures are
// JobErrors (worker/job_error.h), whose reason tells a job's fault (an
// invalid or missing key, an object over the cap) from the store's (kStorage,
// kAccessDenied), which is worth a retry.
#ifndef SLUICE_WORKER_STORE_BUCKET_STORE_H_
#define SLUICE_WORKER_STORE_BUCKET_STORE_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "worker/job_error.h"

namespace sluice::worker {

class BucketStore {
 public:
  virtual ~BucketStore() = default;

  // The object's bytes; kNoSuchKey when there is none, kTooLarge (without
  // reading it) when it has more than `max_bytes`.
  virtual Result<std::string, JobError> Read(const std::string& bucket, const std::string& key,
                                             size_t max_bytes) const = 0;

  // Writes `data` at `key`, replacing what is there. A reader sees the old
  // object or the new one, never a part of one.
  virtual Result<bool, JobError> Write(const std::string& bucket, const std::string& key,
                                       std::string_view data) const = 0;

  // Moves `from` to `to`, replacing it; kNoSuchKey when `from` is gone. Safe
  // to repeat after a crash part way: the object ends at `to`, once.
  virtual Result<bool, JobError> Move(const std::string& bucket, const std::string& from,
                                      const std::string& to) const = 0;
};

}  // namespace sluice::worker

#endif  // SLUICE_WORKER_STORE_BUCKET_STORE_H_
