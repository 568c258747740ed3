// The message move task subcommands, which redrive a dead-letter queue:
// start-message-move-task, cancel-message-move-task, list-message-move-tasks.
// Queues are named by ARN or bare name, passed to the broker as given.
#include <string>

#include "producer/cli/operation_command.h"
#include "producer/cli/sqs_commands.h"

namespace sluice {

void AddSqsCommand(CommandSet& set, ops::StartMessageMoveTask) {
  struct Flags {
    std::string source_arn;
    std::string destination_arn;
    int max_per_second = 0;
  };
  AddOperationCommand<ops::StartMessageMoveTask, Flags>(
      set, {.help = "Moves the messages of a dead-letter queue back",
            .add_flags =
                [](CLI::App* cmd, Flags* f) {
                  cmd->add_option("--source-arn", f->source_arn,
                                  "The dead-letter queue (ARN or name)")
                      ->required();
                  cmd->add_option("--destination-arn", f->destination_arn,
                                  "Where to move to (default: each message's source queue)");
                  cmd->add_option("--max-number-of-messages-per-second", f->max_per_second,
                                  "Rate limit (default: as fast as possible)");
                },
            .fill =
                [](const Flags& f, pb::StartMessageMoveTaskRequest* req) {
                  req->set_source_arn(f.source_arn);
                  req->set_destination_arn(f.destination_arn);
                  req->set_max_number_of_messages_per_second(f.max_per_second);
                  return Status::Ok();
                },
            .print = [](const auto& a) { return StartMessageMoveTaskJson(a.response); }});
}

void AddSqsCommand(CommandSet& set, ops::CancelMessageMoveTask) {
  AddOperationCommand<ops::CancelMessageMoveTask, std::string>(
      set, {.help = "Stops a running message move task",
            .add_flags =
                [](CLI::App* cmd, std::string* handle) {
                  cmd->add_option("--task-handle", *handle, "As start-message-move-task printed it")
                      ->required();
                },
            .fill =
                [](const std::string& handle, pb::CancelMessageMoveTaskRequest* req) {
                  req->set_task_handle(handle);
                  return Status::Ok();
                },
            .print = [](const auto& a) { return CancelMessageMoveTaskJson(a.response); }});
}

void AddSqsCommand(CommandSet& set, ops::ListMessageMoveTasks) {
  struct Flags {
    std::string source_arn;
    int max_results = 0;
  };
  AddOperationCommand<ops::ListMessageMoveTasks, Flags>(
      set, {.help = "Lists the latest message move tasks of a dead-letter queue",
            .add_flags =
                [](CLI::App* cmd, Flags* f) {
                  cmd->add_option("--source-arn", f->source_arn,
                                  "The dead-letter queue (ARN or name)")
                      ->required();
                  cmd->add_option("--max-results", f->max_results, "1 to 10 (default 1)")
                      ->check(NonNegativeInt());
                },
            .fill =
                [](const Flags& f, pb::ListMessageMoveTasksRequest* req) {
                  req->set_source_arn(f.source_arn);
                  req->set_max_results(static_cast<uint32_t>(f.max_results));
                  return Status::Ok();
                },
            .print = [](const auto& a) { return ListMessageMoveTasksJson(a.response); }});
}

}  // namespace sluice
