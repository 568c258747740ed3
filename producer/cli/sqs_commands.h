// The subcommands of sluice-producer that mirror `aws sqs`, with its flag
// names and output shapes (docs/cli.md), grouped by what they act on. Each
// makes one call to the broker.
#ifndef SLUICE_PRODUCER_CLI_SQS_COMMANDS_H_
#define SLUICE_PRODUCER_CLI_SQS_COMMANDS_H_

#include "producer/cli/command.h"

namespace sluice {

// create-queue, delete-queue, get-queue-url, list-queues,
// get-queue-attributes, set-queue-attributes, purge-queue.
void AddSqsQueueCommands(CommandSet& set);

// send-message, send-message-batch, receive-message, delete-message,
// delete-message-batch, change-message-visibility,
// change-message-visibility-batch.
void AddSqsMessageCommands(CommandSet& set);

// start-message-move-task, cancel-message-move-task, list-message-move-tasks.
void AddSqsMoveTaskCommands(CommandSet& set);

}  // namespace sluice

#endif  // SLUICE_PRODUCER_CLI_SQS_COMMANDS_H_
