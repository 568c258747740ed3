#include "broker/auth/principals.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "broker/auth/glob.h"
#include "common/curve_keys.h"
#include "proto/operations.h"

namespace sluice::auth {
namespace {

using nlohmann::json;

constexpr std::string_view kActionPrefix = "sqs:";
constexpr size_t kMaxNameChars = 128;

constexpr std::string_view kActions[] = {
#define SLUICE_ACTION_NAME(Name, field, cli_name) #Name,
    SLUICE_OPERATIONS(SLUICE_ACTION_NAME)
#undef SLUICE_ACTION_NAME
};

// A malformed file: the error names the file and where in it.
struct ParseError {
  std::string where;
  std::string what;
};

// Principal and role names appear in logs and metric labels.
bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameChars) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' &&
        c != '@') {
      return false;
    }
  }
  return true;
}

// Queue name patterns: the characters of queue names, and the wildcards.
bool IsValidQueuePattern(std::string_view pattern) {
  if (pattern.empty() || pattern.size() > 256) return false;
  for (char c : pattern) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' &&
        c != '*' && c != '?') {
      return false;
    }
  }
  return true;
}

bool MatchesSomeAction(std::string_view pattern) {
  for (std::string_view action : kActions) {
    if (GlobMatches(pattern, action)) return true;
  }
  return false;
}

void CheckFields(const json& object, const std::string& where,
                 std::initializer_list<std::string_view> allowed) {
  if (!object.is_object()) throw ParseError{where, "expected an object"};
  for (const auto& [key, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      throw ParseError{where, "unknown field \"" + key + "\""};
    }
  }
}

std::vector<std::string> Strings(const json& array, const std::string& where) {
  if (!array.is_array()) throw ParseError{where, "expected an array of strings"};
  std::vector<std::string> out;
  for (size_t i = 0; i < array.size(); ++i) {
    if (!array[i].is_string()) {
      throw ParseError{where + "[" + std::to_string(i) + "]", "expected a string"};
    }
    out.push_back(array[i].get<std::string>());
  }
  return out;
}

Grant ParseGrant(const json& object, const std::string& where) {
  CheckFields(object, where, {"actions", "queues"});
  if (!object.contains("actions") || !object.contains("queues")) {
    throw ParseError{where, "a grant needs \"actions\" and \"queues\""};
  }
  Grant grant;
  for (std::string action : Strings(object["actions"], where + ".actions")) {
    if (action.starts_with(kActionPrefix)) action.erase(0, kActionPrefix.size());
    if (!MatchesSomeAction(action)) {
      throw ParseError{where + ".actions", "\"" + action + "\" names no action of the broker"};
    }
    grant.actions.push_back(std::move(action));
  }
  for (std::string queue : Strings(object["queues"], where + ".queues")) {
    if (!IsValidQueuePattern(queue)) {
      throw ParseError{where + ".queues", "\"" + queue +
                                              "\" is not a queue name pattern (letters, digits, "
                                              "- _ . and the wildcards * ?)"};
    }
    grant.queues.push_back(std::move(queue));
  }
  return grant;
}

std::vector<Grant> ParseGrants(const json& array, const std::string& where) {
  if (!array.is_array()) throw ParseError{where, "expected an array of grants"};
  std::vector<Grant> grants;
  for (size_t i = 0; i < array.size(); ++i) {
    grants.push_back(ParseGrant(array[i], where + "[" + std::to_string(i) + "]"));
  }
  return grants;
}

}  // namespace

bool IsKnownAction(std::string_view action) {
  return std::find(std::begin(kActions), std::end(kActions), action) != std::end(kActions);
}

bool Principal::Allows(std::string_view action, std::string_view queue) const {
  for (const Grant& grant : grants) {
    const bool action_granted = std::any_of(grant.actions.begin(), grant.actions.end(),
                                            [&](const auto& p) { return GlobMatches(p, action); });
    if (!action_granted) continue;
    if (std::any_of(grant.queues.begin(), grant.queues.end(),
                    [&](const auto& p) { return GlobMatches(p, queue); })) {
      return true;
    }
  }
  return false;
}

Result<Principals> Principals::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status(StatusCode::kInvalidArgument,
                  path + ": cannot open the principals file: " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return Status(StatusCode::kInvalidArgument, path + ": cannot read the principals file");
  }
  return Parse(text.str(), path);
}

Result<Principals> Principals::Parse(std::string_view text, std::string_view origin) {
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return Status(StatusCode::kInvalidArgument, std::string(origin) + ": not valid JSON");
  }
  Principals out;
  try {
    CheckFields(doc, "the top level", {"roles", "principals"});
    std::map<std::string, std::vector<Grant>, std::less<>> roles;
    if (doc.contains("roles")) {
      if (!doc["roles"].is_object()) throw ParseError{"roles", "expected an object"};
      for (const auto& [name, grants] : doc["roles"].items()) {
        const std::string where = "roles." + name;
        if (!IsValidName(name)) throw ParseError{where, "a role name is letters, digits, - _ . @"};
        roles[name] = ParseGrants(grants, where);
      }
    }
    if (!doc.contains("principals") || !doc["principals"].is_object()) {
      throw ParseError{"principals", "expected an object of principals"};
    }
    for (const auto& [name, entry] : doc["principals"].items()) {
      const std::string where = "principals." + name;
      if (!IsValidName(name)) {
        throw ParseError{where, "a principal name is letters, digits, - _ . @"};
      }
      CheckFields(entry, where, {"curve_public_keys", "access_keys", "roles", "grants"});
      Principal p;
      p.name = name;
      if (entry.contains("curve_public_keys")) {
        for (std::string& key : Strings(entry["curve_public_keys"], where + ".curve_public_keys")) {
          if (!IsCurveKey(key)) {
            throw ParseError{where + ".curve_public_keys",
                             "\"" + key + "\" is not a CURVE public key (40 characters of Z85)"};
          }
          auto [it, added] = out.principal_of_curve_key_.emplace(key, name);
          if (!added) {
            throw ParseError{where + ".curve_public_keys",
                             "key " + key + " is already " + it->second + "'s"};
          }
          p.curve_public_keys.push_back(std::move(key));
        }
      }
      if (entry.contains("access_keys")) {
        const json& keys = entry["access_keys"];
        if (!keys.is_array()) throw ParseError{where + ".access_keys", "expected an array"};
        for (size_t i = 0; i < keys.size(); ++i) {
          const std::string key_where = where + ".access_keys[" + std::to_string(i) + "]";
          CheckFields(keys[i], key_where, {"access_key_id", "secret_access_key"});
          const json& id = keys[i].value("access_key_id", json());
          const json& secret = keys[i].value("secret_access_key", json());
          if (!id.is_string() || id.get<std::string>().empty() || !secret.is_string() ||
              secret.get<std::string>().empty()) {
            throw ParseError{key_where, "needs a non-empty access_key_id and secret_access_key"};
          }
          // The secret is never quoted back in an error.
          if (Status s =
                  out.access_keys_.Add({name, id.get<std::string>(), secret.get<std::string>()});
              !s.ok()) {
            throw ParseError{key_where, s.detail()};
          }
        }
      }
      if (entry.contains("grants")) p.grants = ParseGrants(entry["grants"], where + ".grants");
      if (entry.contains("roles")) {
        for (const std::string& role : Strings(entry["roles"], where + ".roles")) {
          auto it = roles.find(role);
          if (it == roles.end()) throw ParseError{where + ".roles", "no role \"" + role + "\""};
          p.grants.insert(p.grants.end(), it->second.begin(), it->second.end());
        }
      }
      out.principals_.emplace(name, std::move(p));
    }
  } catch (const ParseError& e) {
    return Status(StatusCode::kInvalidArgument,
                  std::string(origin) + ": " + e.where + ": " + e.what);
  }
  return out;
}

const Principal* Principals::Find(std::string_view name) const {
  auto it = principals_.find(name);
  return it == principals_.end() ? nullptr : &it->second;
}

const Principal* Principals::FindByCurveKey(std::string_view public_key) const {
  auto it = principal_of_curve_key_.find(public_key);
  return it == principal_of_curve_key_.end() ? nullptr : Find(it->second);
}

}  // namespace sluice::auth
