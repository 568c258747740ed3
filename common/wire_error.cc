#include "common/wire_error.h"

namespace sluice {

pb::ErrorCode ToWire(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return pb::OK;
    case StatusCode::kInternalError:
    case StatusCode::kIOError:
    case StatusCode::kNoSpace:
    case StatusCode::kCorruption:
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
      return pb::INTERNAL_ERROR;
    case StatusCode::kMalformedRequest:
      return pb::MALFORMED_REQUEST;
    case StatusCode::kQueueDoesNotExist:
      return pb::QUEUE_DOES_NOT_EXIST;
    case StatusCode::kQueueNameExists:
      return pb::QUEUE_NAME_EXISTS;
    case StatusCode::kInvalidParameterValue:
      return pb::INVALID_PARAMETER_VALUE;
    case StatusCode::kInvalidAttributeName:
      return pb::INVALID_ATTRIBUTE_NAME;
    case StatusCode::kInvalidAttributeValue:
      return pb::INVALID_ATTRIBUTE_VALUE;
    case StatusCode::kMissingParameter:
      return pb::MISSING_PARAMETER;
    case StatusCode::kMessageTooLong:
      return pb::MESSAGE_TOO_LONG;
    case StatusCode::kInvalidMessageContents:
      return pb::INVALID_MESSAGE_CONTENTS;
    case StatusCode::kEmptyBatchRequest:
      return pb::EMPTY_BATCH_REQUEST;
    case StatusCode::kTooManyEntriesInBatchRequest:
      return pb::TOO_MANY_ENTRIES_IN_BATCH_REQUEST;
    case StatusCode::kBatchEntryIdsNotDistinct:
      return pb::BATCH_ENTRY_IDS_NOT_DISTINCT;
    case StatusCode::kInvalidBatchEntryId:
      return pb::INVALID_BATCH_ENTRY_ID;
    case StatusCode::kBatchRequestTooLong:
      return pb::BATCH_REQUEST_TOO_LONG;
    case StatusCode::kReceiptHandleIsInvalid:
      return pb::RECEIPT_HANDLE_IS_INVALID;
    case StatusCode::kStaleReceiptHandle:
      return pb::STALE_RECEIPT_HANDLE;
    case StatusCode::kMessageNotInflight:
      return pb::MESSAGE_NOT_INFLIGHT;
    case StatusCode::kOverLimit:
      return pb::OVER_LIMIT;
    case StatusCode::kResourceNotFound:
      return pb::RESOURCE_NOT_FOUND;
    case StatusCode::kUnsupportedOperation:
      return pb::UNSUPPORTED_OPERATION;
    case StatusCode::kUnavailable:
      return pb::UNAVAILABLE;
    case StatusCode::kStorageFull:
      return pb::STORAGE_FULL;
    case StatusCode::kAccessDenied:
      return pb::ACCESS_DENIED;
  }
  return pb::INTERNAL_ERROR;  // not a StatusCode: a cast went wrong
}

StatusCode FromWire(pb::ErrorCode code) {
  switch (code) {
    case pb::OK:
      return StatusCode::kOk;
    case pb::INTERNAL_ERROR:
      return StatusCode::kInternalError;
    case pb::MALFORMED_REQUEST:
      return StatusCode::kMalformedRequest;
    case pb::QUEUE_DOES_NOT_EXIST:
      return StatusCode::kQueueDoesNotExist;
    case pb::QUEUE_NAME_EXISTS:
      return StatusCode::kQueueNameExists;
    case pb::INVALID_PARAMETER_VALUE:
      return StatusCode::kInvalidParameterValue;
    case pb::INVALID_ATTRIBUTE_NAME:
      return StatusCode::kInvalidAttributeName;
    case pb::INVALID_ATTRIBUTE_VALUE:
      return StatusCode::kInvalidAttributeValue;
    case pb::MISSING_PARAMETER:
      return StatusCode::kMissingParameter;
    case pb::MESSAGE_TOO_LONG:
      return StatusCode::kMessageTooLong;
    case pb::INVALID_MESSAGE_CONTENTS:
      return StatusCode::kInvalidMessageContents;
    case pb::EMPTY_BATCH_REQUEST:
      return StatusCode::kEmptyBatchRequest;
    case pb::TOO_MANY_ENTRIES_IN_BATCH_REQUEST:
      return StatusCode::kTooManyEntriesInBatchRequest;
    case pb::BATCH_ENTRY_IDS_NOT_DISTINCT:
      return StatusCode::kBatchEntryIdsNotDistinct;
    case pb::INVALID_BATCH_ENTRY_ID:
      return StatusCode::kInvalidBatchEntryId;
    case pb::BATCH_REQUEST_TOO_LONG:
      return StatusCode::kBatchRequestTooLong;
    case pb::RECEIPT_HANDLE_IS_INVALID:
      return StatusCode::kReceiptHandleIsInvalid;
    case pb::STALE_RECEIPT_HANDLE:
      return StatusCode::kStaleReceiptHandle;
    case pb::MESSAGE_NOT_INFLIGHT:
      return StatusCode::kMessageNotInflight;
    case pb::OVER_LIMIT:
      return StatusCode::kOverLimit;
    case pb::RESOURCE_NOT_FOUND:
      return StatusCode::kResourceNotFound;
    case pb::UNSUPPORTED_OPERATION:
      return StatusCode::kUnsupportedOperation;
    case pb::UNAVAILABLE:
      return StatusCode::kUnavailable;
    case pb::STORAGE_FULL:
      return StatusCode::kStorageFull;
    case pb::ACCESS_DENIED:
      return StatusCode::kAccessDenied;
    default:
      return StatusCode::kInternalError;
  }
}

}  // namespace sluice
