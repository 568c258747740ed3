// Flags and steps that the `aws sqs` subcommands share: naming the queue
// (--queue-name or --queue-url), reading a flag's value (file://), and
// turning a call's result into output and an exit code.
//
// The Result-returning functions fail with a detail that names the flag,
// ready for ReportUsageError.
#ifndef SLUICE_PRODUCER_CLI_SQS_FLAGS_H_
#define SLUICE_PRODUCER_CLI_SQS_FLAGS_H_

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>

#include "common/status.h"
#include "producer/cli/command.h"
#include "producer/cli/exit_codes.h"
#include "producer/cli/shorthand.h"

namespace sluice {

// A queue named by exactly one of --queue-name NAME or --queue-url URL.
struct QueueFlags {
  std::string name;
  std::string url;
};

void AddQueueFlags(CLI::App* cmd, QueueFlags* flags);

// The queue's name; fails unless exactly one of the two flags was given.
Result<std::string> QueueNameOf(const QueueFlags& flags);

// The text of `flag`'s `value`, read from the file when it is file://PATH.
Result<std::string> FlagText(std::string_view flag, const std::string& value);

// `flag`'s value as a queue attribute map (shorthand or JSON, or file://).
Result<AttributeMap> FlagAttributes(std::string_view flag, const std::string& value);

// Reports the outcome of a call to `operation`: its answer turned to JSON
// by `to_json` and printed, or its error.
template <typename Response, typename ToJson>
int Finish(std::string_view operation, const Result<Response>& result, ToJson to_json) {
  if (!result.ok()) return ReportCallError(result.status(), operation);
  return ReportOutput(to_json(*result));
}

// The same, for operations whose answer aws-cli does not print.
template <typename Response>
int FinishQuietly(std::string_view operation, const Result<Response>& result) {
  return result.ok() ? kExitOk : ReportCallError(result.status(), operation);
}

}  // namespace sluice

#endif  // SLUICE_PRODUCER_CLI_SQS_FLAGS_H_
