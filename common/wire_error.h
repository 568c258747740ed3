// The wire protocol's error codes, made and read here only.
//
// ToWire gives the pb::ErrorCode a Status travels as: each of SQS's errors as
// its own code, every internal failure (IOError, Corruption, ...) as
// INTERNAL_ERROR, since its kind is the broker's business, not the client's.
// FromWire gives the StatusCode a client reports for a code it received. The
// broker's dispatch and the engine's batch results call ToWire; the client
// calls FromWire, and so do the broker's metrics and logs, which name the
// codes of the answers it sent.
#ifndef SLUICE_COMMON_WIRE_ERROR_H_
#define SLUICE_COMMON_WIRE_ERROR_H_

#include "common/status.h"
#include "sluice.pb.h"

namespace sluice {

pb::ErrorCode ToWire(StatusCode code);

// A code this build does not know (from a newer broker) reads as
// InternalError.
StatusCode FromWire(pb::ErrorCode code);

}  // namespace sluice

#endif  // SLUICE_COMMON_WIRE_ERROR_H_
