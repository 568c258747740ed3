#include "producer/cli/shorthand.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>

namespace sluice {
namespace {

constexpr std::string_view kFilePrefix = "file://";
constexpr std::string_view kSpaces = " \t\r\n";

Status Invalid(std::string detail) {
  return Status(StatusCode::kInvalidParameterValue, std::move(detail));
}

std::string_view Trim(std::string_view s) {
  const size_t first = s.find_first_not_of(kSpaces);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpaces) - first + 1);
}

bool StartsJson(std::string_view text, char open) {
  const std::string_view t = Trim(text);
  return !t.empty() && t.front() == open;
}

size_t SkipSpaces(std::string_view s, size_t i) {
  const size_t next = s.find_first_not_of(kSpaces, i);
  return next == std::string_view::npos ? s.size() : next;
}

Result<AttributeMap> ParseShorthandMap(std::string_view text) {
  AttributeMap out;
  size_t i = 0;
  for (;;) {
    const size_t eq = text.find_first_of("=,", i);
    if (eq == std::string_view::npos || text[eq] != '=') {
      return Invalid("expected KEY=VALUE at offset " + std::to_string(i) +
                     " (shorthand is Key=Value,Key=Value; or give a JSON object)");
    }
    const std::string key(Trim(text.substr(i, eq - i)));
    if (key.empty()) return Invalid("empty key at offset " + std::to_string(i));
    i = SkipSpaces(text, eq + 1);
    std::string value;
    if (i < text.size() && (text[i] == '"' || text[i] == '\'')) {
      const size_t close = text.find(text[i], i + 1);
      if (close == std::string_view::npos) {
        return Invalid("unterminated quote at offset " + std::to_string(i));
      }
      value = text.substr(i + 1, close - i - 1);
      i = SkipSpaces(text, close + 1);
      if (i < text.size() && text[i] != ',') {
        return Invalid("expected ',' after the quoted value of " + key);
      }
    } else {
      const size_t comma = std::min(text.find(',', i), text.size());
      value = Trim(text.substr(i, comma - i));
      i = comma;
    }
    if (!out.emplace(key, std::move(value)).second) return Invalid(key + " is given twice");
    if (i >= text.size()) return out;
    ++i;  // the comma
  }
}

Result<AttributeMap> ParseJsonMap(std::string_view text) {
  Result<nlohmann::json> parsed = ParseJsonArgument(text);
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_object()) return Invalid("expected a JSON object");
  AttributeMap out;
  for (const auto& [key, value] : parsed->items()) {
    if (value.is_string()) {
      out[key] = value.get<std::string>();
    } else if (value.is_null()) {
      return Invalid("the value of " + key + " is null");
    } else {
      // SQS attributes are strings; numbers, booleans and policies given as
      // objects mean their text.
      out[key] = value.dump();
    }
  }
  return out;
}

}  // namespace

Result<std::string> ReadArgumentText(const std::string& arg) {
  if (!arg.starts_with(kFilePrefix)) return arg;
  const std::string path = arg.substr(kFilePrefix.size());
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) return Invalid("cannot read " + arg + ": " + std::strerror(errno));
  std::string text;
  char buf[64 * 1024];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, file.get())) > 0) text.append(buf, n);
  if (std::ferror(file.get())) return Invalid("cannot read " + arg + ": " + std::strerror(errno));
  return text;
}

Result<nlohmann::json> ParseJsonArgument(std::string_view text) {
  // nlohmann reports where parsing failed only through its exception, which
  // stops here.
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() starts with nlohmann's own error id, of no use to a user.
    std::string what = e.what();
    const size_t tag_end = what.find("] ");
    return Invalid("invalid JSON: " +
                   (tag_end == std::string::npos ? what : what.substr(tag_end + 2)));
  }
}

Result<AttributeMap> ParseAttributeMap(std::string_view text) {
  return StartsJson(text, '{') ? ParseJsonMap(text) : ParseShorthandMap(text);
}

Result<std::vector<std::string>> ParseStringList(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const std::string& value : values) {
    if (StartsJson(value, '[')) {
      Result<nlohmann::json> parsed = ParseJsonArgument(value);
      if (!parsed.ok()) return parsed.status();
      for (const nlohmann::json& item : *parsed) {
        if (!item.is_string())
          return Invalid("expected a JSON list of strings, got " + item.dump());
        if (!item.get<std::string>().empty()) out.push_back(item.get<std::string>());
      }
      continue;
    }
    std::string_view rest = value;
    while (!rest.empty()) {
      const size_t comma = std::min(rest.find(','), rest.size());
      std::string_view name = Trim(rest.substr(0, comma));
      if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
        name = name.substr(1, name.size() - 2);
      }
      if (!name.empty()) out.emplace_back(name);
      rest.remove_prefix(std::min(comma + 1, rest.size()));
    }
  }
  return out;
}

}  // namespace sluice
