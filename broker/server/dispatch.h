// Dispatch: runs one wire Request against the Engine and fills the Response
// (its operation's answer, or the error). Requests that name no operation get
// MalformedRequest. A receive is one attempt that answers at once; waiting for
// messages (long polling) is the Server's.
#ifndef SLUICE_BROKER_SERVER_DISPATCH_H_
#define SLUICE_BROKER_SERVER_DISPATCH_H_

#include <string_view>

#include "broker/engine/engine.h"
#include "sluice.pb.h"

namespace sluice {

void Dispatch(Engine& engine, const pb::Request& req, pb::Response* resp);

// The operation's name as SQS spells it ("SendMessageBatch"); for logs and
// metrics labels.
std::string_view OperationName(pb::Request::OpCase op);

// Sets resp's error from `s` when it is not OK.
void SetError(const Status& s, pb::Response* resp);

}  // namespace sluice

#endif  // SLUICE_BROKER_SERVER_DISPATCH_H_
