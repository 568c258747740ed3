#include "producer/cli/sqs_flags.h"

#include "producer/cli/urls.h"

namespace sluice {

Status FlagError(std::string_view flag, const Status& s) {
  return Status(s.code(), std::string(flag) + ": " + s.detail());
}

void AddQueueFlags(CLI::App* cmd, QueueFlags* flags) {
  cmd->add_option("--queue-name", flags->name, "The queue's name");
  cmd->add_option("--queue-url", flags->url,
                  "The queue's URL, <broker>/<name>, as create-queue prints it");
}

Result<std::string> QueueNameOf(const QueueFlags& flags) {
  if (flags.name.empty() == flags.url.empty()) {
    return Status(StatusCode::kMissingParameter,
                  "exactly one of --queue-name or --queue-url is required");
  }
  if (!flags.name.empty()) return flags.name;
  Result<std::string> name = QueueNameFromUrl(flags.url);
  if (!name.ok()) return FlagError("--queue-url", name.status());
  return name;
}

Result<std::string> FlagText(std::string_view flag, const std::string& value) {
  Result<std::string> text = ReadArgumentText(value);
  if (!text.ok()) return FlagError(flag, text.status());
  return text;
}

Result<AttributeMap> FlagAttributes(std::string_view flag, const std::string& value) {
  Result<std::string> text = FlagText(flag, value);
  if (!text.ok()) return text.status();
  Result<AttributeMap> map = ParseAttributeMap(*text);
  if (!map.ok()) return FlagError(flag, map.status());
  return map;
}

}  // namespace sluice
