#include "broker/http/query_params.h"

#include <charconv>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::http {
namespace {

enum class Kind {
  kList,       // TagKey.1=a        -> "TagKeys": ["a"]
  kMap,        // Tag.1.Key=k&Tag.1.Value=v -> "Tags": {"k": "v"}
  kStructMap,  // MessageAttribute.1.Name=n&MessageAttribute.1.Value.X=... -> {"n": {"X": ...}}
  kStructList  // SendMessageBatchRequestEntry.1.Id=a -> "Entries": [{"Id": "a"}]
};

struct Collection {
  std::string_view flat;
  std::string_view json;
  Kind kind;
  std::string_view key = {};
  std::string_view value = {};
};

constexpr Collection kCollections[] = {
    {"Attribute", "Attributes", Kind::kMap, "Name", "Value"},
    {"Tag", "Tags", Kind::kMap, "Key", "Value"},
    {"TagKey", "TagKeys", Kind::kList},
    {"AttributeName", "AttributeNames", Kind::kList},
    {"MessageAttributeName", "MessageAttributeNames", Kind::kList},
    {"MessageSystemAttributeName", "MessageSystemAttributeNames", Kind::kList},
    {"MessageAttribute", "MessageAttributes", Kind::kStructMap, "Name", "Value"},
    {"MessageSystemAttribute", "MessageSystemAttributes", Kind::kStructMap, "Name", "Value"},
    {"SendMessageBatchRequestEntry", "Entries", Kind::kStructList},
    {"DeleteMessageBatchRequestEntry", "Entries", Kind::kStructList},
    {"ChangeMessageVisibilityBatchRequestEntry", "Entries", Kind::kStructList},
    {"StringListValue", "StringListValues", Kind::kList},
    {"BinaryListValue", "BinaryListValues", Kind::kList},
};

const Collection* FindByFlat(std::string_view name) {
  for (const Collection& c : kCollections) {
    if (c.flat == name) return &c;
  }
  return nullptr;
}

const Collection* FindByJson(std::string_view name) {
  for (const Collection& c : kCollections) {
    if (c.json == name) return &c;
  }
  return nullptr;
}

using Params = std::vector<std::pair<std::string, std::string>>;

// How deep dotted names may nest. SQS's deepest is 4 levels
// (SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue); a
// name of a million dots must not take a level of the stack each.
constexpr int kMaxDepth = 16;

Result<nlohmann::json> Convert(const Params& params, int depth) {
  if (depth > kMaxDepth) {
    return Status(StatusCode::kMalformedRequest,
                  "parameter names nest more than " + std::to_string(kMaxDepth) + " levels deep");
  }
  nlohmann::json out = nlohmann::json::object();
  // Per collection, per index: the members under "Name.N.".
  std::map<const Collection*, std::map<int, Params>> collections;
  std::map<std::string, Params> nested;
  for (const auto& [name, value] : params) {
    const size_t dot = name.find('.');
    if (dot == std::string::npos) {
      // "Entries=" is how the query protocol sends an empty list.
      if (const Collection* c = FindByJson(name); c != nullptr && value.empty()) {
        out[name] = c->kind == Kind::kList || c->kind == Kind::kStructList
                        ? nlohmann::json::array()
                        : nlohmann::json::object();
      } else {
        out[name] = value;
      }
      continue;
    }
    const std::string head = name.substr(0, dot);
    const std::string rest = name.substr(dot + 1);
    const Collection* c = FindByFlat(head);
    if (c == nullptr) {
      nested[head].emplace_back(rest, value);
      continue;
    }
    const size_t next = rest.find('.');
    const std::string_view index_text = std::string_view(rest).substr(0, next);
    int index = 0;
    auto [end, ec] =
        std::from_chars(index_text.data(), index_text.data() + index_text.size(), index);
    if (ec != std::errc() || end != index_text.data() + index_text.size() || index < 1) {
      return Status(StatusCode::kMalformedRequest,
                    "parameter " + name + ": expected a positive index after " + head);
    }
    collections[c][index].emplace_back(next == std::string::npos ? "" : rest.substr(next + 1),
                                       value);
  }
  for (const auto& [name, members] : nested) {
    Result<nlohmann::json> object = Convert(members, depth + 1);
    if (!object.ok()) return object;
    out[name] = std::move(*object);
  }
  for (const auto& [c, items] : collections) {
    nlohmann::json& target = out[std::string(c->json)];
    // The numbered members win over anything else of the collection's JSON
    // name ("TagKeys=x", or "TagKeys.a=x", which makes an object).
    const bool is_list = c->kind == Kind::kList || c->kind == Kind::kStructList;
    if (is_list ? !target.is_array() : !target.is_object()) {
      target = is_list ? nlohmann::json::array() : nlohmann::json::object();
    }
    for (const auto& [index, members] : items) {
      if (c->kind == Kind::kList) {
        for (const auto& [sub, value] : members) {
          if (sub.empty()) target.push_back(value);
        }
        continue;
      }
      Result<nlohmann::json> item = Convert(members, depth + 1);
      if (!item.ok()) return item;
      if (c->kind == Kind::kStructList) {
        target.push_back(std::move(*item));
        continue;
      }
      auto key = item->find(std::string(c->key));
      if (key == item->end() || !key->is_string()) {
        return Status(
            StatusCode::kMalformedRequest,
            std::string(c->flat) + "." + std::to_string(index) + " has no " + std::string(c->key));
      }
      // Without its value, a map's entry is an empty string and a struct
      // map's is null (for the decoder to refuse). Not one conditional
      // expression: "" and nullptr would meet as a null const char*, which
      // nlohmann::json takes for a string and std::string throws on.
      auto value = item->find(std::string(c->value));
      if (value != item->end()) {
        target[key->get<std::string>()] = *value;
      } else if (c->kind == Kind::kMap) {
        target[key->get<std::string>()] = "";
      } else {
        target[key->get<std::string>()] = nullptr;
      }
    }
  }
  return out;
}

}  // namespace

Result<nlohmann::json> QueryParamsToJson(const FormParams& params) {
  return Convert(params, /*depth=*/1);
}

}  // namespace sluice::http
