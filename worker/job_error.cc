#include "worker/job_error.h"

namespace sluice::worker {

bool IsPermanent(FailureReason reason) {
  switch (reason) {
    case FailureReason::kStorage:
    case FailureReason::kAccessDenied:
    case FailureReason::kBusy:
    case FailureReason::kCancelled:
    case FailureReason::kInternal:
      return false;
    default:
      return true;
  }
}

std::string_view ReasonName(FailureReason reason) {
  switch (reason) {
    case FailureReason::kInvalidJob:
      return "invalid_job";
    case FailureReason::kInvalidKey:
      return "invalid_key";
    case FailureReason::kNoSuchKey:
      return "no_such_key";
    case FailureReason::kUnsupportedFormat:
      return "unsupported_format";
    case FailureReason::kTooLarge:
      return "too_large";
    case FailureReason::kCorruptImage:
      return "corrupt_image";
    case FailureReason::kTimedOut:
      return "timed_out";
    case FailureReason::kStorage:
      return "storage";
    case FailureReason::kAccessDenied:
      return "access_denied";
    case FailureReason::kBusy:
      return "busy";
    case FailureReason::kCancelled:
      return "cancelled";
    case FailureReason::kInternal:
      return "internal";
  }
  return "unknown";
}

}  // namespace sluice::worker
