// The errors the storage makes most often, in one place: damage found in the
// log, and a failed system call (a full disk told apart, since a caller
// treats it differently). Each is an internal kind: it reaches a client as
// InternalError.
#ifndef SLUICE_BROKER_STORAGE_STORAGE_STATUS_H_
#define SLUICE_BROKER_STORAGE_STORAGE_STATUS_H_

#include <cerrno>
#include <cstring>
#include <string>

#include "common/status.h"

namespace sluice {

// Corruption: the log holds something this broker cannot read.
inline Status Corrupt(const std::string& what) { return Status(StatusCode::kCorruption, what); }

// "<what>: <strerror(errno)>", for a system call that just failed: NoSpace
// when the disk is full, IOError otherwise.
inline Status Errno(const std::string& what) {
  return Status(errno == ENOSPC ? StatusCode::kNoSpace : StatusCode::kIOError,
                what + ": " + std::strerror(errno));
}

// `s` with `context` (a file and offset) put in front of its detail.
inline Status WithContext(const Status& s, const std::string& context) {
  return Status(s.code(), context + s.detail());
}

}  // namespace sluice

#endif  // SLUICE_BROKER_STORAGE_STORAGE_STATUS_H_
