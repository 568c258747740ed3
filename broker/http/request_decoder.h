// Decoding an SQS API call into the wire protocol's Request.
//
// `params` is the call's members as JSON text, in the JSON protocol's shape
// (the query protocol's are rebuilt in that shape by QueryParamsToJson); it
// is parsed with simdjson, since parsing the bodies of a batch was the
// largest part of the broker's work on it. Queues
// are named by URL and resolved by its last path segment, whatever its host;
// a call without QueueUrl takes the queue of the request path, as older SDKs
// post to the queue URL. Numbers may come as JSON numbers or as decimal
// strings. What the engine checks (ranges, names, bodies) is left to it, so
// that both transports give the same answers.
#ifndef SLUICE_BROKER_HTTP_REQUEST_DECODER_H_
#define SLUICE_BROKER_HTTP_REQUEST_DECODER_H_

#include <map>
#include <string>
#include <string_view>

#include "broker/http/api_error.h"
#include "common/status.h"
#include "sluice.pb.h"

namespace sluice::http {

struct DecodedRequest {
  pb::Request request;
  // MD5OfMessageSystemAttributes to answer: of SendMessage under "", of each
  // batch entry under its Id; only for those that sent system attributes.
  std::map<std::string, std::string> system_attributes_md5;
};

// Fails with InvalidAction for an action SQS does not have, with
// UnsupportedOperation for AddPermission and RemovePermission (Sluice has no
// permissions yet), and with the parameter's error otherwise.
// A body that is not a JSON object fails with SerializationException.
Result<DecodedRequest, ApiError> DecodeRequest(std::string_view action, std::string_view params,
                                               std::string_view path_queue);

}  // namespace sluice::http

#endif  // SLUICE_BROKER_HTTP_REQUEST_DECODER_H_
