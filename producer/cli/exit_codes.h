// The exit codes of sluice-producer, the same as aws-cli's so that scripts
// written for `aws sqs` read them the same way.
#ifndef SLUICE_PRODUCER_CLI_EXIT_CODES_H_
#define SLUICE_PRODUCER_CLI_EXIT_CODES_H_

namespace sluice {

// The call succeeded (a batch with failed entries included: the batch itself
// was answered).
constexpr int kExitOk = 0;
// enqueue and upload: some uploads could not be enqueued (an unreadable file,
// a name still being enqueued, a message the broker refused); the rest were.
constexpr int kExitSomeFailed = 1;
// The command line is wrong: unknown flag, missing argument, malformed JSON.
// Nothing was sent.
constexpr int kExitUsage = 252;
// The bucket (a directory under --bucket-root) does not exist.
constexpr int kExitNoBucket = 253;
// The broker answered with an error, printed as its SQS name.
constexpr int kExitBrokerError = 254;
// The broker did not answer in time, or could not be reached.
constexpr int kExitUnavailable = 255;

}  // namespace sluice

#endif  // SLUICE_PRODUCER_CLI_EXIT_CODES_H_
