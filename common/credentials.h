// CredentialStore: the access keys the broker accepts, read from a file in
// AWS's shared-credentials format (~/.aws/credentials):
//
//   # comment            ; comment
//   [alice]
//   aws_access_key_id = AKIDALICE
//   aws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
//
// Each section is one identity; its name is the identity's name, to which
// permissions will be attached. A section needs both keys, given once each;
// other keys (region, aws_session_token, ...) are ignored, as the AWS tools
// ignore what they do not use. Section names and access key ids are unique.
// Any fault is kInvalidArgument, naming the file and the line.
#ifndef SLUICE_COMMON_CREDENTIALS_H_
#define SLUICE_COMMON_CREDENTIALS_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sluice {

struct Credential {
  std::string name;  // the section's name
  std::string access_key_id;
  std::string secret;
};

class CredentialStore {
 public:
  CredentialStore() = default;

  // The file at `path`.
  static Result<CredentialStore> Load(const std::string& path);
  // `text`, a file's contents; errors name it `origin`.
  static Result<CredentialStore> Parse(std::string_view text, std::string_view origin);

  // Adds `credential`; InvalidArgument when its access key id is taken.
  Status Add(Credential credential);

  // The credential with this access key id, or null. Valid while the store is.
  const Credential* Find(std::string_view access_key_id) const;
  size_t size() const { return credentials_.size(); }

 private:
  std::vector<Credential> credentials_;                          // in the file's order
  std::map<std::string, size_t, std::less<>> by_access_key_id_;  // into credentials_
};

}  // namespace sluice

#endif  // SLUICE_COMMON_CREDENTIALS_H_
