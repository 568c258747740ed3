// Form decoding: application/x-www-form-urlencoded text, as the query
// protocol's bodies and URL query strings carry it. '+' is a space, %XX a
// byte; pairs are separated by '&', and a pair without '=' has an empty
// value. A '%' not followed by two hex digits is an error that says where.
#ifndef SLUICE_BROKER_HTTP_FORM_H_
#define SLUICE_BROKER_HTTP_FORM_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace sluice::http {

using FormParams = std::vector<std::pair<std::string, std::string>>;

// Fails with kMalformedRequest.
Result<FormParams> ParseForm(std::string_view text);

// Decodes one percent-encoded component; `plus_is_space` for form text.
Result<std::string> PercentDecode(std::string_view text, bool plus_is_space);

}  // namespace sluice::http

#endif  // SLUICE_BROKER_HTTP_FORM_H_
