// The CURVE flags every client program shares (sluice-producer,
// sluice-worker, sluice-bench), each also read from its SLUICE_* variable:
//
//   --broker-public-key KEY       SLUICE_BROKER_PUBLIC_KEY
//   --broker-public-key-file FILE SLUICE_BROKER_PUBLIC_KEY_FILE
//   --secret-key KEY              SLUICE_SECRET_KEY
//   --secret-key-file FILE        SLUICE_SECRET_KEY_FILE
//
// The files suit Kubernetes Secrets mounted as files. The client's public
// key is derived from its secret key. Given neither, the client connects
// unencrypted; given one half only, it is an error.
#ifndef SLUICE_CLIENT_CURVE_FLAGS_H_
#define SLUICE_CLIENT_CURVE_FLAGS_H_

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "client/client.h"
#include "common/status.h"

namespace sluice {

struct CurveFlags {
  std::string broker_public_key;
  std::string broker_public_key_file;
  std::string secret_key;
  std::string secret_key_file;
};

void AddCurveFlags(CLI::App* app, CurveFlags* flags);

// The credentials the flags name, or none; InvalidArgument when a key is
// malformed, a file unreadable, or one half missing.
Result<std::optional<CurveCredentials>> ResolveCurveFlags(const CurveFlags& flags);

}  // namespace sluice

#endif  // SLUICE_CLIENT_CURVE_FLAGS_H_
