#include "common/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace sluice {

bool InitLogging(const std::string& process_name, const std::string& level) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") return false;
  auto logger = spdlog::stderr_logger_mt(process_name);
  // ISO-8601 time, then the level and process as fields, then the event's own
  // key=value pairs: easy to grep and to feed to a log shipper.
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ level=%l proc=%n %v", spdlog::pattern_time_type::utc);
  logger->set_level(lvl);
  spdlog::set_default_logger(logger);
  return true;
}

}  // namespace sluice
