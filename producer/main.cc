// sluice-producer: the command line through which queues are administered
// and messages sent, its subcommands and flags those of `aws sqs`. This file
// parses the shared flags and hands over to the chosen subcommand.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <limits>
#include <string>

#include "client/client.h"
#include "client/curve_flags.h"
#include "common/clock.h"
#include "producer/cli/command.h"
#include "producer/cli/exit_codes.h"
#include "producer/cli/sqs_commands.h"
#include "producer/cli/urls.h"
#include "producer/enqueue/enqueue_commands.h"

namespace sluice {
namespace {

int Main(int argc, char** argv) {
  CLI::App app("Administers Sluice queues and sends messages, like `aws sqs`.", "sluice-producer");
  // Subcommands inherit these two settings when added: flags of the main
  // command (--broker) may follow the subcommand, and exactly one is run.
  app.fallthrough();
  app.require_subcommand(1);

  std::string broker;
  Millis timeout_ms = ClientOptions{}.call_timeout_ms;
  app.add_option("--broker", broker,
                 "The broker, tcp://HOST:PORT (default: $SLUICE_BROKER, else " +
                     std::string(kDefaultBrokerEndpoint) + ")");
  app.add_option("--timeout-ms", timeout_ms,
                 "How long to wait for the broker's answer, in ms (a receive adds its wait)")
      ->check(CLI::Range(Millis{1}, Millis{std::numeric_limits<int32_t>::max()}))
      ->capture_default_str();

  CurveFlags curve_flags;
  AddCurveFlags(&app, &curve_flags);

  CommandSet commands(&app);
  AddSqsCommands(commands);
  AddEnqueueCommands(commands);

  // CLI11 reports a bad command line, and --help, by throwing; both end here.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }

  CommandContext context;
  context.endpoint = ResolveBrokerEndpoint(broker);
  context.client_options.call_timeout_ms = timeout_ms;
  auto curve = ResolveCurveFlags(curve_flags);
  if (!curve.ok()) return ReportUsageError(curve.status().detail());
  context.client_options.curve = *curve;
  if (Status s = CheckBrokerEndpoint(context.endpoint); !s.ok()) {
    return ReportUsageError((broker.empty() ? "$SLUICE_BROKER: " : "--broker: ") + s.detail());
  }
  return commands.RunParsed(context);
}

}  // namespace
}  // namespace sluice

int main(int argc, char** argv) { return sluice::Main(argc, argv); }
