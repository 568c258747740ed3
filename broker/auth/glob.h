// Glob: the patterns of grants. `*` matches any run of characters (none
// included) and `?` any one character; every other character matches
// itself. Queue names and action names have no other special characters, so
// no escape is needed.
#ifndef SLUICE_BROKER_AUTH_GLOB_H_
#define SLUICE_BROKER_AUTH_GLOB_H_

#include <string_view>

namespace sluice::auth {

bool GlobMatches(std::string_view pattern, std::string_view text);

}  // namespace sluice::auth

#endif  // SLUICE_BROKER_AUTH_GLOB_H_
