#include "common/status.h"

namespace sluice {
namespace {

// The name of an internal failure's kind, or nothing for SQS's errors.
std::string_view InternalKindName(StatusCode code) {
  switch (code) {
    case StatusCode::kIOError:
      return "IOError";
    case StatusCode::kNoSpace:
      return "NoSpace";
    case StatusCode::kCorruption:
      return "Corruption";
    case StatusCode::kInvalidArgument:
      return "InvalidArgument";
    case StatusCode::kNotFound:
      return "NotFound";
    default:
      return {};
  }
}

}  // namespace

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string_view name = InternalKindName(code_);
  std::string s(name.empty() ? ErrorCodeName(code_) : name);
  if (!detail_.empty()) {
    s += ": ";
    s += detail_;
  }
  return s;
}

std::string_view ErrorCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kInternalError:
    case StatusCode::kIOError:
    case StatusCode::kNoSpace:
    case StatusCode::kCorruption:
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
      return "InternalError";
    case StatusCode::kMalformedRequest:
      return "MalformedRequest";
    case StatusCode::kQueueDoesNotExist:
      return "QueueDoesNotExist";
    case StatusCode::kQueueNameExists:
      return "QueueNameExists";
    case StatusCode::kInvalidParameterValue:
      return "InvalidParameterValue";
    case StatusCode::kInvalidAttributeName:
      return "InvalidAttributeName";
    case StatusCode::kInvalidAttributeValue:
      return "InvalidAttributeValue";
    case StatusCode::kMissingParameter:
      return "MissingParameter";
    case StatusCode::kMessageTooLong:
      return "MessageTooLong";
    case StatusCode::kInvalidMessageContents:
      return "InvalidMessageContents";
    case StatusCode::kEmptyBatchRequest:
      return "EmptyBatchRequest";
    case StatusCode::kTooManyEntriesInBatchRequest:
      return "TooManyEntriesInBatchRequest";
    case StatusCode::kBatchEntryIdsNotDistinct:
      return "BatchEntryIdsNotDistinct";
    case StatusCode::kInvalidBatchEntryId:
      return "InvalidBatchEntryId";
    case StatusCode::kBatchRequestTooLong:
      return "BatchRequestTooLong";
    case StatusCode::kReceiptHandleIsInvalid:
      return "ReceiptHandleIsInvalid";
    case StatusCode::kStaleReceiptHandle:
      return "StaleReceiptHandle";
    case StatusCode::kMessageNotInflight:
      return "MessageNotInflight";
    case StatusCode::kOverLimit:
      return "OverLimit";
    case StatusCode::kResourceNotFound:
      return "ResourceNotFoundException";
    case StatusCode::kUnsupportedOperation:
      return "UnsupportedOperation";
    case StatusCode::kUnavailable:
      return "BrokerUnavailable";
    case StatusCode::kStorageFull:
      return "StorageFull";
    case StatusCode::kAccessDenied:
      return "AccessDenied";
  }
  return "UnknownError";  // not a StatusCode: a cast went wrong
}

bool IsSenderFault(StatusCode code) {
  return code != StatusCode::kInternalError && code != StatusCode::kUnavailable &&
         InternalKindName(code).empty();
}

}  // namespace sluice
