#include "common/s3/xml.h"

#include <charconv>
#include <cstdio>
#include <ctime>
#include <pugixml.hpp>

#include "common/s3/event.h"

namespace sluice::s3 {
namespace {

bool Load(pugi::xml_document& doc, std::string_view body) {
  // parse_default without entity expansion beyond XML's own five: pugixml
  // does not expand DTD entities, so no billion laughs.
  return static_cast<bool>(doc.load_buffer(body.data(), body.size()));
}

}  // namespace

std::optional<int64_t> ParseIsoTime(std::string_view time) {
  int year, month, day, hour, minute, second;
  int consumed = 0;
  const std::string text(time);
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &consumed) != 6 ||
      month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  int64_t millis = 0;
  std::string_view rest = time.substr(static_cast<size_t>(consumed));
  if (rest.starts_with('.')) {
    rest.remove_prefix(1);
    int digits = 0;
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
      if (digits < 3) millis = millis * 10 + (rest.front() - '0');
      ++digits;
      rest.remove_prefix(1);
    }
    for (; digits < 3; ++digits) millis *= 10;
  }
  if (rest != "Z") return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + millis;
}

std::string Unquote(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

std::optional<ErrorBody> ParseErrorBody(std::string_view body) {
  pugi::xml_document doc;
  if (!Load(doc, body)) return std::nullopt;
  const pugi::xml_node error = doc.child("Error");
  if (!error) return std::nullopt;
  return ErrorBody{error.child_value("Code"), error.child_value("Message")};
}

Result<ListPage, std::string> ParseListPage(std::string_view body) {
  pugi::xml_document doc;
  if (!Load(doc, body)) return std::string("ListObjectsV2: the answer is not XML");
  const pugi::xml_node result = doc.child("ListBucketResult");
  if (!result) return std::string("ListObjectsV2: the answer has no ListBucketResult");
  const bool url_encoded = std::string_view(result.child_value("EncodingType")) == "url";
  ListPage page;
  for (pugi::xml_node contents : result.children("Contents")) {
    ObjectInfo object;
    const char* key = contents.child_value("Key");
    if (url_encoded) {
      auto decoded = DecodeKey(key);
      if (!decoded) return std::string("ListObjectsV2: a key is not URL-encoded well");
      object.key = std::move(*decoded);
    } else {
      object.key = key;
    }
    const std::string_view size = contents.child_value("Size");
    std::from_chars(size.data(), size.data() + size.size(), object.size);
    object.etag = Unquote(contents.child_value("ETag"));
    object.last_modified_ms = ParseIsoTime(contents.child_value("LastModified")).value_or(0);
    page.objects.push_back(std::move(object));
  }
  if (std::string_view(result.child_value("IsTruncated")) == "true") {
    page.next_continuation_token = result.child_value("NextContinuationToken");
    if (page.next_continuation_token.empty()) {
      return std::string("ListObjectsV2: truncated with no NextContinuationToken");
    }
  }
  return page;
}

}  // namespace sluice::s3
