// Argument text as aws-cli reads it: `file://PATH` in place of a value reads
// the value from a file, a map argument takes aws shorthand (`Key=Value,...`)
// or JSON, and a list argument takes separate words, commas or a JSON list.
//
// Errors are InvalidParameterValue with a detail that names the problem but
// not the flag; the caller puts the flag in front.
#ifndef SLUICE_PRODUCER_CLI_SHORTHAND_H_
#define SLUICE_PRODUCER_CLI_SHORTHAND_H_

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sluice {

// Queue attributes by name, sorted so that requests and output are stable.
using AttributeMap = std::map<std::string, std::string>;

// `arg` itself, or the contents of PATH when `arg` is "file://PATH".
Result<std::string> ReadArgumentText(const std::string& arg);

// Parses JSON text; the error says where it stopped making sense.
Result<nlohmann::json> ParseJsonArgument(std::string_view text);

// `VisibilityTimeout=30,DelaySeconds=5` or a JSON object. In shorthand, a
// value may be quoted ('...' or "...") to hold commas, and a key given twice
// is refused. In JSON, values that are numbers or booleans become their text
// and objects or lists their compact JSON (a RedrivePolicy given as an
// object); null is refused.
Result<AttributeMap> ParseAttributeMap(std::string_view text);

// The values given after a list flag (`--attribute-names A B`): each may hold
// several names separated by commas, or be a JSON list of strings. A name in
// double quotes is unquoted: CLI11 hands over the items of a list flag's
// `["A","B"]` as `"A"` and `"B"`. Empty names are skipped.
Result<std::vector<std::string>> ParseStringList(const std::vector<std::string>& values);

}  // namespace sluice

#endif  // SLUICE_PRODUCER_CLI_SHORTHAND_H_
