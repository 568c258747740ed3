// Access: what a request needs from its principal's grants, decided before
// the engine sees the request, so that the engine stays a pure state machine
// that knows nothing of callers.
//
// Each operation needs its own action on the queue it names; a batch needs
// its single operation's (SendMessageBatch needs SendMessage), as in SQS.
// StartMessageMoveTask needs ReceiveMessage and DeleteMessage on the source
// and SendMessage on the destination; with no destination the messages go
// back to wherever they came from, so it needs SendMessage on every queue
// (a grant whose queue pattern is "*"). CancelMessageMoveTask needs its
// action on the task's source queue. ListQueues needs a ListQueues grant,
// and its answer lists only the queues such grants match.
#ifndef SLUICE_BROKER_AUTH_ACCESS_H_
#define SLUICE_BROKER_AUTH_ACCESS_H_

#include <optional>
#include <string>
#include <string_view>

#include "broker/auth/principals.h"
#include "common/status.h"
#include "sluice.pb.h"

namespace sluice::auth {

// What was refused: the action, and the queue it was refused on.
struct Denial {
  std::string_view action;
  std::string queue;
};

// The first permission `req` needs that `principal` lacks; nothing when it
// may go ahead. A null principal (unknown, or its key revoked) has none.
std::optional<Denial> FindDenial(const Principal* principal, const pb::Request& req);

// AccessDenied for `denial`, worded as SQS words it.
Status DeniedStatus(std::string_view principal, const Denial& denial);

// Removes from a ListQueues answer the queues `principal` may not list.
void FilterListQueues(const Principal& principal, pb::ListQueuesResponse* resp);

}  // namespace sluice::auth

#endif  // SLUICE_BROKER_AUTH_ACCESS_H_
