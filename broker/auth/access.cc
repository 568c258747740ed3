#include "broker/auth/access.h"

#include <algorithm>

#include "broker/auth/glob.h"
#include "proto/operations.h"

namespace sluice::auth {
namespace {

// A queue ARN's last segment is the queue's name.
std::string NameOfArn(std::string_view arn) {
  const size_t colon = arn.rfind(':');
  return std::string(colon == std::string_view::npos ? arn : arn.substr(colon + 1));
}

// Task handles are "mt-<number>-<source queue>" (broker/engine/move_tasks.cc).
std::string SourceOfTaskHandle(std::string_view handle) {
  if (!handle.starts_with("mt-")) return std::string(handle);
  const size_t dash = handle.find('-', 3);
  return std::string(dash == std::string_view::npos ? handle : handle.substr(dash + 1));
}

template <typename Request>
std::string QueueOf(const Request& r) {
  if constexpr (requires { r.queue_name(); }) {
    return r.queue_name();
  } else if constexpr (requires { r.source_arn(); }) {
    return NameOfArn(r.source_arn());
  } else if constexpr (requires { r.task_handle(); }) {
    return SourceOfTaskHandle(r.task_handle());
  } else {
    return "";
  }
}

// The action a batch is checked as: its single operation's.
std::string_view ActionOf(pb::Request::OpCase op, std::string_view name) {
  switch (op) {
    case pb::Request::kSendMessageBatch:
      return ops::SendMessage::kName;
    case pb::Request::kDeleteMessageBatch:
      return ops::DeleteMessage::kName;
    case pb::Request::kChangeMessageVisibilityBatch:
      return ops::ChangeMessageVisibility::kName;
    default:
      return name;
  }
}

bool AllowsOnEveryQueue(const Principal& principal, std::string_view action) {
  return std::any_of(principal.grants.begin(), principal.grants.end(), [&](const Grant& g) {
    return std::any_of(g.actions.begin(), g.actions.end(),
                       [&](const auto& p) { return GlobMatches(p, action); }) &&
           std::find(g.queues.begin(), g.queues.end(), "*") != g.queues.end();
  });
}

bool AllowsOnSomeQueue(const Principal& principal, std::string_view action) {
  return std::any_of(principal.grants.begin(), principal.grants.end(), [&](const Grant& g) {
    return std::any_of(g.actions.begin(), g.actions.end(),
                       [&](const auto& p) { return GlobMatches(p, action); });
  });
}

}  // namespace

std::optional<Denial> FindDenial(const Principal* principal, const pb::Request& req) {
  std::string_view action;
  std::string queue;
  switch (req.op_case()) {
#define SLUICE_ACCESS_CASE(Name, field, cli_name)       \
  case pb::Request::k##Name:                            \
    action = ActionOf(req.op_case(), ops::Name::kName); \
    queue = QueueOf(req.field());                       \
    break;
    SLUICE_OPERATIONS(SLUICE_ACCESS_CASE)
#undef SLUICE_ACCESS_CASE
    case pb::Request::OP_NOT_SET:
      return std::nullopt;  // refused as malformed by dispatch
  }
  if (principal == nullptr) return Denial{action, queue};
  switch (req.op_case()) {
    case pb::Request::kListQueues:
      if (!AllowsOnSomeQueue(*principal, action)) return Denial{action, "*"};
      return std::nullopt;
    case pb::Request::kStartMessageMoveTask: {
      for (std::string_view needed : {ops::ReceiveMessage::kName, ops::DeleteMessage::kName}) {
        if (!principal->Allows(needed, queue)) return Denial{needed, queue};
      }
      const std::string& destination = req.start_message_move_task().destination_arn();
      if (destination.empty()) {
        if (!AllowsOnEveryQueue(*principal, ops::SendMessage::kName)) {
          return Denial{ops::SendMessage::kName, "*"};
        }
      } else if (std::string name = NameOfArn(destination);
                 !principal->Allows(ops::SendMessage::kName, name)) {
        return Denial{ops::SendMessage::kName, std::move(name)};
      }
      return std::nullopt;
    }
    default:
      if (!principal->Allows(action, queue)) return Denial{action, queue};
      return std::nullopt;
  }
}

Status DeniedStatus(std::string_view principal, const Denial& denial) {
  return Status(StatusCode::kAccessDenied,
                "User: " + std::string(principal.empty() ? "(unauthenticated)" : principal) +
                    " is not authorized to perform: sqs:" + std::string(denial.action) +
                    " on resource: " + denial.queue);
}

void FilterListQueues(const Principal& principal, pb::ListQueuesResponse* resp) {
  auto* names = resp->mutable_queue_names();
  names->erase(std::remove_if(names->begin(), names->end(),
                              [&](const std::string& name) {
                                return !principal.Allows(ops::ListQueues::kName, name);
                              }),
               names->end());
}

}  // namespace sluice::auth
