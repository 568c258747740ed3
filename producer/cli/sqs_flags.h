// Flags and steps that the `aws sqs` subcommands share: naming the queue
// (--queue-name or --queue-url) and reading a flag's value (file://).
//
// The functions fail with a detail that names the flag, ready for
// ReportUsageError.
#ifndef SLUICE_PRODUCER_CLI_SQS_FLAGS_H_
#define SLUICE_PRODUCER_CLI_SQS_FLAGS_H_

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>

#include "common/status.h"
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

// Sets `req`'s queue_name to QueueNameOf(flags).
template <typename Request>
Status FillQueueName(const QueueFlags& flags, Request* req) {
  Result<std::string> name = QueueNameOf(flags);
  if (!name.ok()) return name.status();
  req->set_queue_name(*name);
  return Status::Ok();
}

// `s` with its detail prefixed by the flag it is about: "--entries: ...".
Status FlagError(std::string_view flag, const Status& s);

// The text of `flag`'s `value`, read from the file when it is file://PATH.
Result<std::string> FlagText(std::string_view flag, const std::string& value);

// `flag`'s value as a queue attribute map (shorthand or JSON, or file://).
Result<AttributeMap> FlagAttributes(std::string_view flag, const std::string& value);

}  // namespace sluice

#endif  // SLUICE_PRODUCER_CLI_SQS_FLAGS_H_
