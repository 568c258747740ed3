#include "broker/server/dispatch.h"

#include "common/wire_error.h"
#include "proto/operations.h"

namespace sluice {

void SetError(const Status& s, pb::Response* resp) {
  if (s.ok()) return;
  resp->mutable_error()->set_code(ToWire(s.code()));
  resp->mutable_error()->set_detail(s.detail());
}

// The switches below have a case for every operation and no default, so an
// operation of sluice.proto that is missing from the list fails the build
// (-Wswitch).
void Dispatch(Engine& engine, const pb::Request& req, pb::Response* resp) {
  resp->set_request_id(req.request_id());
  Status s;
  switch (req.op_case()) {
#define SLUICE_DISPATCH(Name, field, cli_name)             \
  case pb::Request::k##Name:                               \
    s = engine.Name(req.field(), resp->mutable_##field()); \
    break;
    SLUICE_OPERATIONS(SLUICE_DISPATCH)
#undef SLUICE_DISPATCH
    case pb::Request::OP_NOT_SET:
      s = Status(StatusCode::kMalformedRequest, "the request names no operation this broker knows");
      break;
  }
  if (!s.ok()) {
    // An error answer carries no operation body.
    resp->clear_op();
    SetError(s, resp);
  }
}

std::string_view OperationName(pb::Request::OpCase op) {
  switch (op) {
#define SLUICE_OPERATION_NAME(Name, field, cli_name) \
  case pb::Request::k##Name:                         \
    return ops::Name::kName;
    SLUICE_OPERATIONS(SLUICE_OPERATION_NAME)
#undef SLUICE_OPERATION_NAME
    case pb::Request::OP_NOT_SET:
      break;
  }
  return "Unknown";
}

}  // namespace sluice
