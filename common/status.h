// Status and Result: how every module reports failure to its caller.
//
// A Status is OK or an error code from the wire protocol with a detail for
// humans. Result<T> holds a value or a non-OK Status. Neither throws; code that
// calls a library which throws converts at its own boundary.
#ifndef SLUICE_COMMON_STATUS_H_
#define SLUICE_COMMON_STATUS_H_

#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "sluice.pb.h"

namespace sluice {

using ErrorCode = pb::ErrorCode;

class Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string detail) : code_(code), detail_(std::move(detail)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == pb::OK; }
  ErrorCode code() const { return code_; }
  const std::string& detail() const { return detail_; }

  // "QueueDoesNotExist: The specified queue does not exist."
  std::string ToString() const;

 private:
  ErrorCode code_ = pb::OK;
  std::string detail_;
};

// SQS's name for an error code ("QueueDoesNotExist"), as the CLI prints it.
std::string_view ErrorCodeName(ErrorCode code);

// Whether the sender (rather than the broker) is at fault, as SQS reports in
// batch results.
bool IsSenderFault(ErrorCode code);

template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: must not be OK

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() { return std::get<T>(v_); }
  const T& value() const { return std::get<T>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace sluice

#endif  // SLUICE_COMMON_STATUS_H_
