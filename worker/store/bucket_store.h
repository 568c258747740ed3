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
#include <memory>
#include <string>
#include <string_view>

#include "worker/job_error.h"

namespace sluice::worker {

// A move begun before a job's outputs are written (BucketStore::StartMove).
class PendingMove {
 public:
  virtual ~PendingMove() = default;
  // Completes the move, once the outputs are written: as Move().
  virtual Result<bool, JobError> Finish() = 0;
  // The job failed: the object stays at `from`, and `to` is as if the move
  // had not begun.
  virtual void Abandon() = 0;
};

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

  // Begins moving `from` to `to` while the job still works, so that what a
  // move costs in waiting overlaps the resize. The object stays at `from`
  // until Finish(). This one does all of the move in Finish(); S3 starts its
  // copy at once.
  virtual std::unique_ptr<PendingMove> StartMove(const std::string& bucket, const std::string& from,
                                                 const std::string& to) const;
};

}  // namespace sluice::worker

#endif  // SLUICE_WORKER_STORE_BUCKET_STORE_H_
