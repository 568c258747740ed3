// The message move task subcommands, which redrive a dead-letter queue:
// start-message-move-task, cancel-message-move-task, list-message-move-tasks.
// Queues are named by ARN or bare name, passed to the broker as given.
#include <memory>
#include <string>

#include "client/client.h"
#include "producer/cli/sqs_commands.h"
#include "producer/cli/sqs_flags.h"

namespace sluice {
namespace {

void AddStartMessageMoveTask(CommandSet& set) {
  struct Flags {
    std::string source_arn;
    std::string destination_arn;
    int max_per_second = 0;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd =
      set.Add("start-message-move-task", "Moves the messages of a dead-letter queue back",
              [f](const CommandContext& ctx) {
                pb::StartMessageMoveTaskRequest req;
                req.set_source_arn(f->source_arn);
                req.set_destination_arn(f->destination_arn);
                req.set_max_number_of_messages_per_second(f->max_per_second);
                Client client(ctx.endpoint, ctx.client_options);
                return Finish("StartMessageMoveTask", client.StartMessageMoveTask(req),
                              &StartMessageMoveTaskJson);
              });
  cmd->add_option("--source-arn", f->source_arn, "The dead-letter queue (ARN or name)")->required();
  cmd->add_option("--destination-arn", f->destination_arn,
                  "Where to move to (default: each message's source queue)");
  cmd->add_option("--max-number-of-messages-per-second", f->max_per_second,
                  "Rate limit (default: as fast as possible)");
}

void AddCancelMessageMoveTask(CommandSet& set) {
  auto f = std::make_shared<std::string>();
  CLI::App* cmd =
      set.Add("cancel-message-move-task", "Stops a running message move task",
              [f](const CommandContext& ctx) {
                pb::CancelMessageMoveTaskRequest req;
                req.set_task_handle(*f);
                Client client(ctx.endpoint, ctx.client_options);
                return Finish("CancelMessageMoveTask", client.CancelMessageMoveTask(req),
                              &CancelMessageMoveTaskJson);
              });
  cmd->add_option("--task-handle", *f, "As start-message-move-task printed it")->required();
}

void AddListMessageMoveTasks(CommandSet& set) {
  struct Flags {
    std::string source_arn;
    int max_results = 0;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = set.Add("list-message-move-tasks",
                          "Lists the latest message move tasks of a dead-letter queue",
                          [f](const CommandContext& ctx) {
                            pb::ListMessageMoveTasksRequest req;
                            req.set_source_arn(f->source_arn);
                            req.set_max_results(static_cast<uint32_t>(f->max_results));
                            Client client(ctx.endpoint, ctx.client_options);
                            return Finish("ListMessageMoveTasks", client.ListMessageMoveTasks(req),
                                          &ListMessageMoveTasksJson);
                          });
  cmd->add_option("--source-arn", f->source_arn, "The dead-letter queue (ARN or name)")->required();
  cmd->add_option("--max-results", f->max_results, "1 to 10 (default 1)")->check(NonNegativeInt());
}

}  // namespace

void AddSqsMoveTaskCommands(CommandSet& set) {
  AddStartMessageMoveTask(set);
  AddCancelMessageMoveTask(set);
  AddListMessageMoveTasks(set);
}

}  // namespace sluice
