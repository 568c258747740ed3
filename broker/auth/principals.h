// Principals: who may call the broker and what each may do, read from the
// principals file (JSON; docs/auth.md):
//
//   {"roles": {"worker": [{"actions": ["ReceiveMessage", "DeleteMessage"],
//                          "queues": ["photos"]}]},
//    "principals": {"worker-1": {"curve_public_keys": ["<Z85>"],
//                                "access_keys": [{"access_key_id": "AKID",
//                                                 "secret_access_key": "..."}],
//                                "roles": ["worker"],
//                                "grants": [...]}}}
//
// A principal is a name with credentials: CURVE public keys for ZeroMQ and
// SigV4 access keys for the HTTP front end, more than one of each so that a
// key can be rotated. Its grants are its own plus its roles'. A grant pairs
// action patterns (SQS's action names, "sqs:" optional) with queue name
// patterns (glob.h). What no grant allows is denied.
//
// Parsing is strict, so that a typing mistake is not a silent denial (or a
// silent grant): unknown fields, unknown actions, unknown roles, malformed
// keys and a key given to two principals are errors (InvalidArgument, naming
// the file and the place).
#ifndef SLUICE_BROKER_AUTH_PRINCIPALS_H_
#define SLUICE_BROKER_AUTH_PRINCIPALS_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/credentials.h"
#include "common/status.h"

namespace sluice::auth {

struct Grant {
  std::vector<std::string> actions;  // patterns over action names, "sqs:" removed
  std::vector<std::string> queues;   // patterns over queue names
};

struct Principal {
  std::string name;
  std::vector<std::string> curve_public_keys;  // Z85
  std::vector<Grant> grants;                   // its own, then its roles'

  // Whether a grant allows `action` on the queue named `queue`.
  bool Allows(std::string_view action, std::string_view queue) const;
};

class Principals {
 public:
  Principals() = default;

  static Result<Principals> Load(const std::string& path);
  // `text`, a file's contents; errors name it `origin`.
  static Result<Principals> Parse(std::string_view text, std::string_view origin);

  // The principal named `name`, or null. Valid while this is.
  const Principal* Find(std::string_view name) const;
  // The principal that holds this CURVE public key (Z85), or null.
  const Principal* FindByCurveKey(std::string_view public_key) const;
  // Every access key, each named (Credential::name) for its principal.
  const CredentialStore& access_keys() const { return access_keys_; }
  size_t size() const { return principals_.size(); }

 private:
  std::map<std::string, Principal, std::less<>> principals_;
  std::map<std::string, std::string, std::less<>> principal_of_curve_key_;
  CredentialStore access_keys_;
};

// Whether `action` ("SendMessage") is one of the broker's operations.
bool IsKnownAction(std::string_view action);

}  // namespace sluice::auth

#endif  // SLUICE_BROKER_AUTH_PRINCIPALS_H_
