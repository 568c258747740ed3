#include "producer/cli/command.h"

#include <iostream>

#include "producer/cli/exit_codes.h"

namespace sluice {

CLI::App* CommandSet::Add(const std::string& name, const std::string& description,
                          CommandAction action) {
  CLI::App* sub = app_->add_subcommand(name, description);
  commands_.emplace_back(sub, std::move(action));
  return sub;
}

int CommandSet::RunParsed(const CommandContext& context) const {
  for (const auto& [sub, action] : commands_) {
    if (sub->parsed()) return action(context);
  }
  // The app requires a subcommand, so parsing has already failed without one.
  return ReportUsageError("no subcommand given");
}

int ReportUsageError(std::string_view message) {
  std::cerr << "sluice-producer: error: " << message << "\n";
  return kExitUsage;
}

int ReportCallError(const Status& status, std::string_view operation) {
  if (status.code() == StatusCode::kUnavailable) {
    std::cerr << "Could not reach the broker when calling the " << operation
              << " operation: " << status.detail() << "\n";
    return kExitUnavailable;
  }
  std::cerr << "An error occurred (" << ErrorCodeName(status.code()) << ") when calling the "
            << operation << " operation: " << status.detail() << "\n";
  return kExitBrokerError;
}

int ReportOutput(const OutputJson& json) {
  std::cout << FormatJson(json);
  return kExitOk;
}

}  // namespace sluice
