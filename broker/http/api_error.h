// ApiError: an error as SQS's HTTP protocols send it. The same condition has
// two names: the query protocol's code (also sent over JSON in the
// x-amzn-query-error header, so clients see one code under both protocols)
// and the JSON protocol's shape name (botocore and the SDKs pick the
// exception class by it). ../shared/sqs-http-api.md, "Error codes".
//
// Client mistakes are 4xx, never 5xx: clients retry 5xx.
#ifndef SLUICE_BROKER_HTTP_API_ERROR_H_
#define SLUICE_BROKER_HTTP_API_ERROR_H_

#include <string>

#include "common/status.h"

namespace sluice::http {

struct ApiError {
  int http_status = 400;
  std::string query_code;  // "AWS.SimpleQueueService.NonExistentQueue"
  std::string shape;       // "QueueDoesNotExist"
  std::string message;     // never empty
  bool sender_fault = true;

  // An error whose two names are the same.
  static ApiError Of(int http_status, std::string code, std::string message);
};

// The error a client sees for a failed Status.
ApiError ToApiError(const Status& status);

// The error code of a batch entry's failure (BatchResultErrorEntry.Code).
std::string BatchEntryCode(StatusCode code);

// The unknown action, the missing one, and the request that cannot be read.
ApiError InvalidAction(const std::string& action);
ApiError MissingAction();
ApiError MalformedBody(const std::string& what);

}  // namespace sluice::http

#endif  // SLUICE_BROKER_HTTP_API_ERROR_H_
