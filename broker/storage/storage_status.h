// The errors the storage makes, in one place: a failed system call, damage
// found in the log, and any other failure of the storage itself. Each one is
// an internal error to the broker's callers; the detail says which.
#ifndef SLUICE_BROKER_STORAGE_STORAGE_STATUS_H_
#define SLUICE_BROKER_STORAGE_STORAGE_STATUS_H_

#include <cerrno>
#include <cstring>
#include <string>

#include "common/status.h"

namespace sluice {

// "Corruption: <what>": the log holds something this broker cannot read.
inline Status Corrupt(const std::string& what) {
  return Status(pb::INTERNAL_ERROR, "Corruption: " + what);
}

// "<what>: <strerror(errno)>", for a system call that just failed.
inline Status Errno(const std::string& what) {
  return Status(pb::INTERNAL_ERROR, what + ": " + std::strerror(errno));
}

// Any other failure of the storage, said in full by `what`.
inline Status StorageError(const std::string& what) { return Status(pb::INTERNAL_ERROR, what); }

// `s` with `context` (a file and offset) put in front of its detail.
inline Status WithContext(const Status& s, const std::string& context) {
  return Status(s.code(), context + s.detail());
}

}  // namespace sluice

#endif  // SLUICE_BROKER_STORAGE_STORAGE_STATUS_H_
