// Process-wide logging set-up: one line per event, "key=value" fields, to
// stderr. Every binary calls InitLogging once at start.
#ifndef SLUICE_COMMON_LOGGING_H_
#define SLUICE_COMMON_LOGGING_H_

#include <string>

namespace sluice {

// `level` is an spdlog level name (trace, debug, info, warn, error, off);
// returns false when it is not one.
bool InitLogging(const std::string& process_name, const std::string& level);

}  // namespace sluice

#endif  // SLUICE_COMMON_LOGGING_H_
