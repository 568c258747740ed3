#include "broker/http/api_error.h"

#include <utility>

namespace sluice::http {
namespace {

struct Names {
  int http_status;
  const char* query_code;
  const char* shape;
};

Names NamesOf(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
    case StatusCode::kInternalError:
    case StatusCode::kIOError:
    case StatusCode::kNoSpace:
    case StatusCode::kCorruption:
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
      return {500, "InternalError", "InternalError"};
    case StatusCode::kMalformedRequest:
      return {400, "MalformedQueryString", "MalformedQueryString"};
    case StatusCode::kQueueDoesNotExist:
      return {400, "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"};
    case StatusCode::kQueueNameExists:
      return {400, "QueueAlreadyExists", "QueueNameExists"};
    case StatusCode::kInvalidParameterValue:
      return {400, "InvalidParameterValue", "InvalidParameterValue"};
    case StatusCode::kInvalidAttributeName:
      return {400, "InvalidAttributeName", "InvalidAttributeName"};
    case StatusCode::kInvalidAttributeValue:
      return {400, "InvalidAttributeValue", "InvalidAttributeValue"};
    case StatusCode::kMissingParameter:
      return {400, "MissingParameter", "MissingParameter"};
    // SQS answers a message over MaximumMessageSize as a bad parameter.
    case StatusCode::kMessageTooLong:
      return {400, "InvalidParameterValue", "InvalidParameterValue"};
    case StatusCode::kInvalidMessageContents:
      return {400, "InvalidMessageContents", "InvalidMessageContents"};
    case StatusCode::kEmptyBatchRequest:
      return {400, "AWS.SimpleQueueService.EmptyBatchRequest", "EmptyBatchRequest"};
    case StatusCode::kTooManyEntriesInBatchRequest:
      return {400, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
              "TooManyEntriesInBatchRequest"};
    case StatusCode::kBatchEntryIdsNotDistinct:
      return {400, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "BatchEntryIdsNotDistinct"};
    case StatusCode::kInvalidBatchEntryId:
      return {400, "AWS.SimpleQueueService.InvalidBatchEntryId", "InvalidBatchEntryId"};
    case StatusCode::kBatchRequestTooLong:
      return {400, "AWS.SimpleQueueService.BatchRequestTooLong", "BatchRequestTooLong"};
    case StatusCode::kReceiptHandleIsInvalid:
      return {400, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid"};
    // SQS: "Value ... for parameter ReceiptHandle is invalid. Reason: The
    // receipt handle has expired."
    case StatusCode::kStaleReceiptHandle:
      return {400, "InvalidParameterValue", "InvalidParameterValue"};
    case StatusCode::kMessageNotInflight:
      return {400, "AWS.SimpleQueueService.MessageNotInflight", "MessageNotInflight"};
    case StatusCode::kOverLimit:
      return {403, "OverLimit", "OverLimit"};
    case StatusCode::kAccessDenied:
      return {403, "AccessDenied", "AccessDenied"};
    case StatusCode::kResourceNotFound:
      return {400, "ResourceNotFoundException", "ResourceNotFoundException"};
    case StatusCode::kUnsupportedOperation:
      return {400, "AWS.SimpleQueueService.UnsupportedOperation", "UnsupportedOperation"};
    // The broker's conditions, not the client's: a 503 is retried, and
    // should be.
    case StatusCode::kUnavailable:
    case StatusCode::kStorageFull:
      return {503, "ServiceUnavailable", "ServiceUnavailable"};
  }
  return {500, "InternalError", "InternalError"};
}

}  // namespace

ApiError ApiError::Of(int http_status, std::string code, std::string message) {
  ApiError e;
  e.http_status = http_status;
  e.query_code = code;
  e.shape = std::move(code);
  e.message = std::move(message);
  return e;
}

ApiError ToApiError(const Status& status) {
  const Names names = NamesOf(status.code());
  ApiError e;
  e.http_status = names.http_status;
  e.query_code = names.query_code;
  e.shape = names.shape;
  e.message = status.detail().empty() ? std::string(ErrorCodeName(status.code())) : status.detail();
  e.sender_fault = names.http_status < 500;
  return e;
}

std::string BatchEntryCode(StatusCode code) { return NamesOf(code).query_code; }

ApiError InvalidAction(const std::string& action) {
  return ApiError::Of(400, "InvalidAction",
                      "The action " + action + " is not valid for this web service.");
}

ApiError MissingAction() {
  return ApiError::Of(400, "MissingAction",
                      "The request names no action: neither an Action parameter nor an "
                      "X-Amz-Target header");
}

ApiError MalformedBody(const std::string& what) {
  return ApiError::Of(400, "MalformedQueryString", what);
}

}  // namespace sluice::http
