// JobError: how the worker's modules report why a job failed, as the error of
// a Result<T, JobError>. The reason decides what happens to the message: a
// transient failure is retried after a backoff, a permanent one goes to the
// dead-letter queue at once (retrying an invalid image cannot help).
#ifndef SLUICE_WORKER_JOB_ERROR_H_
#define SLUICE_WORKER_JOB_ERROR_H_

#include <string>
#include <string_view>

#include "common/status.h"

namespace sluice::worker {

enum class FailureReason {
  // Permanent: the job or the image is at fault.
  kInvalidJob,         // the message body is not a job
  kInvalidKey,         // bad bucket or key, or one that leaves its bucket
  kNoSuchKey,          // the object does not exist
  kUnsupportedFormat,  // not JPEG, PNG, WebP or GIF by its magic bytes
  kTooLarge,           // over the byte, dimension or pixel limits
  kCorruptImage,       // ImageMagick cannot decode or encode it
  kTimedOut,           // the resize ran past its time limit
  // Transient: retrying later may succeed.
  kStorage,       // reading or writing the bucket failed (disk full, I/O error, S3 down)
  kAccessDenied,  // the store refused our credentials (S3's 403): fixed by
                  // its operator, not by the job, so worth retrying
  kBusy,          // ImageMagick's memory, shared by all jobs, was short just now
  kCancelled,     // the worker is shutting down
  kInternal,      // a bug of ours (an unexpected exception); the broker's
                  // maxReceiveCount ends the retries
};

bool IsPermanent(FailureReason reason);
// The name used in logs, metrics and the dead-lettered message's attribute:
// "invalid_job", "no_such_key", ...
std::string_view ReasonName(FailureReason reason);

struct JobError {
  FailureReason reason;
  std::string detail;
};

}  // namespace sluice::worker

#endif  // SLUICE_WORKER_JOB_ERROR_H_
