// The frame every sluice-producer subcommand lives in: a CommandSet holds the
// subcommands, each a CLI11 sub-app with its flags and the action to run once
// the command line is parsed; the Report functions print an outcome the way
// aws-cli does and give the exit code (producer/cli/exit_codes.h).
//
// A subcommand module adds its subcommands with CommandSet::Add, binding its
// flags to storage that its action owns (a shared_ptr captured by both).
#ifndef SLUICE_PRODUCER_CLI_COMMAND_H_
#define SLUICE_PRODUCER_CLI_COMMAND_H_

#include <CLI/CLI.hpp>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "client/client.h"
#include "common/status.h"
#include "producer/cli/json_output.h"

namespace sluice {

// What every subcommand runs with: the flags that are not its own.
struct CommandContext {
  std::string endpoint;  // the broker, resolved and checked
  ClientOptions client_options;
};

// Runs a parsed subcommand; returns the process's exit code.
using CommandAction = std::function<int(const CommandContext&)>;

class CommandSet {
 public:
  // `app` must outlive the set.
  explicit CommandSet(CLI::App* app) : app_(app) {}

  CommandSet(const CommandSet&) = delete;
  CommandSet& operator=(const CommandSet&) = delete;

  // Adds subcommand `name`; its flags go on the returned sub-app.
  CLI::App* Add(const std::string& name, const std::string& description, CommandAction action);

  // Runs the action of the subcommand the command line chose.
  int RunParsed(const CommandContext& context) const;

 private:
  CLI::App* app_;
  std::vector<std::pair<CLI::App*, CommandAction>> commands_;
};

// Adds flag `name` to `cmd`, setting `*out` only when the flag is given, for
// flags whose absence means "the broker's default" rather than a value.
template <typename T>
CLI::Option* AddOptionalFlag(CLI::App* cmd, const std::string& name, std::optional<T>* out,
                             const std::string& description) {
  return cmd->add_option_function<T>(
      name, [out](const T& value) { *out = value; }, description);
}

// For counts the wire protocol carries unsigned. (CLI11's NonNegativeNumber
// would name the largest double in its error message.)
inline CLI::Range NonNegativeInt() { return CLI::Range(0, std::numeric_limits<int>::max()); }

// "sluice-producer: error: <message>" on stderr; returns kExitUsage.
int ReportUsageError(std::string_view message);

// A failed call, as aws-cli reports it:
//   An error occurred (QueueDoesNotExist) when calling the SendMessage operation: ...
// returning kExitBrokerError, or for an unreachable broker kExitUnavailable.
int ReportCallError(const Status& status, std::string_view operation);

// Prints `json` on stdout (nothing for null); returns kExitOk.
int ReportOutput(const OutputJson& json);

}  // namespace sluice

#endif  // SLUICE_PRODUCER_CLI_COMMAND_H_
