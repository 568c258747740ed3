// The query protocol's parameters as the JSON protocol's request object.
//
// The query protocol flattens lists and maps into numbered names
// ("Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=5"); the JSON
// protocol sends the same members as JSON ({"Attributes": {...}}). Rebuilding
// the JSON shape lets one decoder serve both protocols. The flattened names
// are SQS's (../shared/sqs-http-api.md); a dotted name that is not one of them
// becomes a nested object ("Value.DataType"). Scalars stay strings, which the
// decoder reads as numbers where numbers are due.
#ifndef SLUICE_BROKER_HTTP_QUERY_PARAMS_H_
#define SLUICE_BROKER_HTTP_QUERY_PARAMS_H_

#include <nlohmann/json.hpp>

#include "broker/http/form.h"
#include "common/status.h"

namespace sluice::http {

// Fails with kMalformedRequest when an index is not a positive number, or
// when names nest more than 16 levels deep (SQS's nest 4).
Result<nlohmann::json> QueryParamsToJson(const FormParams& params);

}  // namespace sluice::http

#endif  // SLUICE_BROKER_HTTP_QUERY_PARAMS_H_
