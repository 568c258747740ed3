// The Status of an SQS HTTP error answer, for the JSON and query clients.
#ifndef SLUICE_BENCH_SQS_ERROR_H_
#define SLUICE_BENCH_SQS_ERROR_H_

#include <string_view>

#include "common/status.h"

namespace sluice::bench {

// `code` is the answer's error name: a JSON `__type` shape ("QueueDoesNotExist",
// its "com.amazonaws.sqs#" prefix removed or not) or a query `Code`
// ("AWS.SimpleQueueService.NonExistentQueue"). A name Sluice has gives that
// StatusCode, any other kInternalError; the detail keeps the HTTP status, the
// name and the message, so a peer server's errors read as it wrote them.
Status SqsError(int http_status, std::string_view code, std::string_view message);

// Whether CreateQueue failed only because the queue exists with other
// attributes, which the benchmark accepts.
bool IsQueueExists(const Status& status);

}  // namespace sluice::bench

#endif  // SLUICE_BENCH_SQS_ERROR_H_
