// The subcommands of sluice-producer that mirror `aws sqs`: one per
// operation of proto/operations.h, with aws-cli's flag names and output
// shapes (docs/cli.md). Each makes one call to the broker.
#ifndef SLUICE_PRODUCER_CLI_SQS_COMMANDS_H_
#define SLUICE_PRODUCER_CLI_SQS_COMMANDS_H_

#include "producer/cli/command.h"
#include "proto/operations.h"

namespace sluice {

// The subcommand of one operation. Each is defined with the others of its
// group (sqs_queue_commands.cc, sqs_message_commands.cc and
// sqs_move_task_commands.cc), so an operation without one fails to link.
#define SLUICE_DECLARE_SQS_COMMAND(Name, field, cli_name) \
  void AddSqsCommand(CommandSet& set, ops::Name);
SLUICE_OPERATIONS(SLUICE_DECLARE_SQS_COMMAND)
#undef SLUICE_DECLARE_SQS_COMMAND

// Adds them all, in the order of the list.
inline void AddSqsCommands(CommandSet& set) {
#define SLUICE_ADD_SQS_COMMAND(Name, field, cli_name) AddSqsCommand(set, ops::Name{});
  SLUICE_OPERATIONS(SLUICE_ADD_SQS_COMMAND)
#undef SLUICE_ADD_SQS_COMMAND
}

}  // namespace sluice

#endif  // SLUICE_PRODUCER_CLI_SQS_COMMANDS_H_
