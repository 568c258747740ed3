#include "bench/sqs_error.h"

#include <string>

namespace sluice::bench {
namespace {

// The SQS error names of StatusCode, kInternalError through kAccessDenied.
StatusCode CodeOfName(std::string_view name) {
  for (int c = static_cast<int>(StatusCode::kInternalError);
       c <= static_cast<int>(StatusCode::kAccessDenied); ++c) {
    const auto code = static_cast<StatusCode>(c);
    if (ErrorCodeName(code) == name) return code;
  }
  // The query names of the two a benchmark may meet that differ from JSON's.
  if (name == "AWS.SimpleQueueService.NonExistentQueue") return StatusCode::kQueueDoesNotExist;
  if (name == "QueueAlreadyExists") return StatusCode::kQueueNameExists;
  return StatusCode::kInternalError;
}

}  // namespace

Status SqsError(int http_status, std::string_view code, std::string_view message) {
  const size_t hash = code.rfind('#');
  if (hash != std::string_view::npos) code.remove_prefix(hash + 1);
  return Status(CodeOfName(code), "HTTP " + std::to_string(http_status) + " " + std::string(code) +
                                      ": " + std::string(message));
}

bool IsQueueExists(const Status& status) { return status.code() == StatusCode::kQueueNameExists; }

}  // namespace sluice::bench
