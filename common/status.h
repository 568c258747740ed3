// Status and Result: how every module reports failure to its caller.
//
// A Status is OK or a StatusCode with a detail for humans. The codes are of
// two sorts: SQS's errors, which the engine reports and clients receive, and
// internal failures (I/O, corruption, ...), which are ours alone and reach a
// client as InternalError. The wire protocol's codes are made and read only in
// common/wire_error.h, so this header, and the modules that only report
// failure, do not depend on the protocol.
//
// Result<T, E> holds a value or an error, a non-OK Status unless E says
// otherwise. Neither throws; code that calls a library which throws converts
// at its own boundary.
#ifndef SLUICE_COMMON_STATUS_H_
#define SLUICE_COMMON_STATUS_H_

#include <concepts>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace sluice {

enum class StatusCode {
  kOk,
  // SQS's errors, one for each code of the wire protocol.
  kInternalError,  // a broker fault; also what every internal kind below is on the wire
  kMalformedRequest,
  kQueueDoesNotExist,
  kQueueNameExists,
  kInvalidParameterValue,
  kInvalidAttributeName,
  kInvalidAttributeValue,
  kMissingParameter,
  kMessageTooLong,
  kInvalidMessageContents,
  kEmptyBatchRequest,
  kTooManyEntriesInBatchRequest,
  kBatchEntryIdsNotDistinct,
  kInvalidBatchEntryId,
  kBatchRequestTooLong,
  kReceiptHandleIsInvalid,
  kStaleReceiptHandle,
  kMessageNotInflight,
  kOverLimit,
  kResourceNotFound,
  kUnsupportedOperation,
  kUnavailable,  // set by the client: the broker did not answer in time
  kStorageFull,
  kAccessDenied,  // no grant of the caller's principal allows the call
  // Internal failures, for the module's caller and the logs.
  kIOError,          // a system call failed
  kNoSpace,          // a write found the disk full
  kCorruption,       // stored data is damaged or missing
  kInvalidArgument,  // a setting given to a module (not an SQS parameter) is wrong
  kNotFound,         // a module was asked for something it does not hold
};

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string detail) : code_(code), detail_(std::move(detail)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& detail() const { return detail_; }

  // "QueueDoesNotExist: The specified queue does not exist.". An internal
  // failure is named by its kind ("Corruption: ..."), as the logs want it.
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string detail_;
};

// SQS's name for the error a client sees ("QueueDoesNotExist"), as the CLI
// prints it: "InternalError" for every internal failure.
std::string_view ErrorCodeName(StatusCode code);

// Whether the sender (rather than the broker) is at fault, as SQS reports in
// batch results.
bool IsSenderFault(StatusCode code);

template <typename T, typename E = Status>
class Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: must not be OK

  bool ok() const { return v_.index() == 0; }
  // Only when !ok().
  const E& error() const { return std::get<1>(v_); }
  // A Status result's error, or OK.
  const Status& status() const requires std::same_as<E, Status> {
    static const Status kOk;
    return ok() ? kOk : error();
  }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }

 private:
  std::variant<T, E> v_;
};

}  // namespace sluice

#endif  // SLUICE_COMMON_STATUS_H_
