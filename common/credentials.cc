#include "common/credentials.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <string>

namespace sluice {
namespace {

constexpr std::string_view kKeyIdName = "aws_access_key_id";
constexpr std::string_view kSecretName = "aws_secret_access_key";

std::string_view Trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r";
  const size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(kSpace) - begin + 1);
}

// The section being read, until the next one (or the end) closes it.
struct OpenSection {
  Credential credential;
  int line = 0;         // of the [name]
  int key_id_line = 0;  // of the aws_access_key_id
};

}  // namespace

Result<CredentialStore> CredentialStore::Load(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return Status(StatusCode::kInvalidArgument,
                  path + ": cannot open credentials: " + std::strerror(errno));
  }
  std::string text;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, n);
  const bool failed = std::ferror(file) != 0;
  const int error = errno;
  std::fclose(file);
  if (failed) {
    return Status(StatusCode::kInvalidArgument,
                  path + ": cannot read credentials: " + std::strerror(error));
  }
  return Parse(text, path);
}

Result<CredentialStore> CredentialStore::Parse(std::string_view text, std::string_view origin) {
  CredentialStore store;
  std::map<std::string, int> section_lines;  // name -> line, for duplicates
  std::optional<OpenSection> open;
  int line_number = 0;

  auto error = [&](int line, const std::string& what) {
    return Status(StatusCode::kInvalidArgument,
                  std::string(origin) + ":" + std::to_string(line) + ": " + what);
  };
  // Adds the open section to the store once it is known to be complete.
  auto close = [&]() -> Status {
    if (!open) return Status::Ok();
    Credential& c = open->credential;
    const std::string section = "[" + c.name + "]";
    if (c.access_key_id.empty()) {
      return error(open->line, "section " + section + " has no aws_access_key_id");
    }
    if (c.secret.empty()) {
      return error(open->line, "section " + section + " has no aws_secret_access_key");
    }
    if (const Credential* other = store.Find(c.access_key_id)) {
      return error(open->key_id_line,
                   "the aws_access_key_id of " + section + " is already [" + other->name + "]'s");
    }
    store.Add(std::move(c));
    open.reset();
    return Status::Ok();
  };

  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view line = Trim(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++line_number;

    if (line.empty() || line.front() == '#' || line.front() == ';') continue;

    if (line.front() == '[' && line.back() == ']' && line.size() >= 2) {
      Status s = close();
      if (!s.ok()) return s;
      const std::string name(Trim(line.substr(1, line.size() - 2)));
      if (name.empty()) return error(line_number, "a section without a name");
      auto [it, added] = section_lines.emplace(name, line_number);
      if (!added) {
        return error(line_number, "section [" + name + "] given twice (first at line " +
                                      std::to_string(it->second) + ")");
      }
      open.emplace();
      open->credential.name = name;
      open->line = line_number;
      continue;
    }

    const size_t equals = line.find('=');
    std::string key(Trim(line.substr(0, equals)));
    if (equals == std::string_view::npos || key.empty()) {
      // The line is not quoted back: it may hold a secret.
      return error(line_number, "expected [name], key = value, a comment or a blank line");
    }
    // Key names are case-insensitive, as botocore's parser has them.
    for (char& ch : key) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const std::string_view value = Trim(line.substr(equals + 1));
    if (!open) return error(line_number, key + " outside a section");
    std::string* field = key == kKeyIdName    ? &open->credential.access_key_id
                         : key == kSecretName ? &open->credential.secret
                                              : nullptr;
    if (field == nullptr) continue;  // a setting of the AWS tools' (region, ...)
    const std::string where = " in [" + open->credential.name + "]";
    if (!field->empty()) return error(line_number, key + " given twice" + where);
    if (value.empty()) return error(line_number, key + " is empty" + where);
    *field = value;
    if (key == kKeyIdName) open->key_id_line = line_number;
  }
  Status s = close();
  if (!s.ok()) return s;
  return store;
}

Status CredentialStore::Add(Credential credential) {
  auto [it, added] = by_access_key_id_.emplace(credential.access_key_id, credentials_.size());
  if (!added) {
    return Status(StatusCode::kInvalidArgument, "access key id " + credential.access_key_id +
                                                    " is already " + credentials_[it->second].name +
                                                    "'s");
  }
  credentials_.push_back(std::move(credential));
  return Status::Ok();
}

const Credential* CredentialStore::Find(std::string_view access_key_id) const {
  auto it = by_access_key_id_.find(access_key_id);
  return it == by_access_key_id_.end() ? nullptr : &credentials_[it->second];
}

}  // namespace sluice
