// The skeleton of the subcommands that make one call of one operation (the
// `aws sqs` ones): a subcommand states only what is its own, in an
// OperationCommand, and AddOperationCommand does the rest the same way for
// all of them:
//   - the subcommand is named as the operation's CLI name (proto/operations.h);
//   - once its flags are parsed, `fill` makes the request from them; a
//     failure is a usage error with fill's detail (kExitUsage);
//   - a failed call is reported as aws-cli does, under the operation's SQS
//     name (ReportCallError);
//   - `print` makes the JSON printed for the answer; without one nothing is
//     printed, as aws-cli prints nothing for operations that answer nothing.
#ifndef SLUICE_PRODUCER_CLI_OPERATION_COMMAND_H_
#define SLUICE_PRODUCER_CLI_OPERATION_COMMAND_H_

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "client/client.h"
#include "common/status.h"
#include "producer/cli/command.h"
#include "producer/cli/exit_codes.h"
#include "producer/cli/json_output.h"
#include "proto/operations.h"

namespace sluice {

// A subcommand for operation Op (an ops:: type) whose flags are held in a
// Flags, which the subcommand owns.
template <typename Op, typename Flags>
struct OperationCommand {
  using Request = typename Op::Request;
  using Response = typename Op::Response;

  // What `print` is given: the call and its answer, and the broker that
  // answered (queue URLs are made from it).
  struct Answer {
    const std::string& endpoint;
    const Request& request;
    const Response& response;
  };

  std::string help;
  // Adds the subcommand's flags to `cmd`, bound to `flags`.
  std::function<void(CLI::App* cmd, Flags* flags)> add_flags;
  // Makes the request from the parsed flags; a failure's detail names the flag.
  std::function<Status(const Flags& flags, Request* req)> fill;
  // The answer as aws-cli prints it (null prints nothing); unset for
  // operations whose answer aws-cli does not print.
  std::function<OutputJson(const Answer& answer)> print = nullptr;
};

// The client's method of each operation, chosen by the request's type.
#define SLUICE_CALL_CLIENT(Name, field, cli_name)                                              \
  inline Result<pb::Name##Response> CallClient(Client& client, const pb::Name##Request& req) { \
    return client.Name(req);                                                                   \
  }
SLUICE_OPERATIONS(SLUICE_CALL_CLIENT)
#undef SLUICE_CALL_CLIENT

template <typename Op, typename Flags>
void AddOperationCommand(CommandSet& set, OperationCommand<Op, Flags> command) {
  auto flags = std::make_shared<Flags>();
  auto run = [flags, fill = std::move(command.fill),
              print = std::move(command.print)](const CommandContext& ctx) {
    typename Op::Request req;
    if (Status s = fill(*flags, &req); !s.ok()) return ReportUsageError(s.detail());
    Client client(ctx.endpoint, ctx.client_options);
    Result<typename Op::Response> resp = CallClient(client, req);
    if (!resp.ok()) return ReportCallError(resp.status(), Op::kName);
    if (!print) return kExitOk;
    return ReportOutput(print({ctx.endpoint, req, *resp}));
  };
  CLI::App* cmd = set.Add(std::string(Op::kCliName), command.help, std::move(run));
  command.add_flags(cmd, flags.get());
}

}  // namespace sluice

#endif  // SLUICE_PRODUCER_CLI_OPERATION_COMMAND_H_
