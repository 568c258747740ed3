#include "common/status.h"

namespace sluice {

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s(ErrorCodeName(code_));
  if (!detail_.empty()) {
    s += ": ";
    s += detail_;
  }
  return s;
}

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case pb::OK:
      return "OK";
    case pb::INTERNAL_ERROR:
      return "InternalError";
    case pb::MALFORMED_REQUEST:
      return "MalformedRequest";
    case pb::QUEUE_DOES_NOT_EXIST:
      return "QueueDoesNotExist";
    case pb::QUEUE_NAME_EXISTS:
      return "QueueNameExists";
    case pb::INVALID_PARAMETER_VALUE:
      return "InvalidParameterValue";
    case pb::INVALID_ATTRIBUTE_NAME:
      return "InvalidAttributeName";
    case pb::INVALID_ATTRIBUTE_VALUE:
      return "InvalidAttributeValue";
    case pb::MISSING_PARAMETER:
      return "MissingParameter";
    case pb::MESSAGE_TOO_LONG:
      return "MessageTooLong";
    case pb::INVALID_MESSAGE_CONTENTS:
      return "InvalidMessageContents";
    case pb::EMPTY_BATCH_REQUEST:
      return "EmptyBatchRequest";
    case pb::TOO_MANY_ENTRIES_IN_BATCH_REQUEST:
      return "TooManyEntriesInBatchRequest";
    case pb::BATCH_ENTRY_IDS_NOT_DISTINCT:
      return "BatchEntryIdsNotDistinct";
    case pb::INVALID_BATCH_ENTRY_ID:
      return "InvalidBatchEntryId";
    case pb::BATCH_REQUEST_TOO_LONG:
      return "BatchRequestTooLong";
    case pb::RECEIPT_HANDLE_IS_INVALID:
      return "ReceiptHandleIsInvalid";
    case pb::STALE_RECEIPT_HANDLE:
      return "StaleReceiptHandle";
    case pb::MESSAGE_NOT_INFLIGHT:
      return "MessageNotInflight";
    case pb::OVER_LIMIT:
      return "OverLimit";
    case pb::RESOURCE_NOT_FOUND:
      return "ResourceNotFoundException";
    case pb::UNSUPPORTED_OPERATION:
      return "UnsupportedOperation";
    case pb::UNAVAILABLE:
      return "BrokerUnavailable";
    case pb::STORAGE_FULL:
      return "StorageFull";
    default:
      return "UnknownError";
  }
}

bool IsSenderFault(ErrorCode code) { return code != pb::INTERNAL_ERROR && code != pb::UNAVAILABLE; }

}  // namespace sluice
