#include "common/s3/xml.h"

#include <charconv>
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
  // YYYY-MM-DDTHH:MM:SS, digits exactly where the pattern has them.
  constexpr std::string_view kPattern = "dddd-dd-ddTdd:dd:dd";
  if (time.size() < kPattern.size()) return std::nullopt;
  for (size_t i = 0; i < kPattern.size(); ++i) {
    const bool digit = time[i] >= '0' && time[i] <= '9';
    if (kPattern[i] == 'd' ? !digit : time[i] != kPattern[i]) return std::nullopt;
  }
  const auto number = [&](size_t at, size_t n) {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) v = v * 10 + (time[i] - '0');
    return v;
  };
  std::tm tm{};
  tm.tm_year = number(0, 4) - 1900;
  tm.tm_mon = number(5, 2) - 1;
  tm.tm_mday = number(8, 2);
  tm.tm_hour = number(11, 2);
  tm.tm_min = number(14, 2);
  tm.tm_sec = number(17, 2);
  int64_t millis = 0;
  std::string_view rest = time.substr(kPattern.size());
  if (rest.starts_with('.')) {
    rest.remove_prefix(1);
    int digits = 0;
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
      if (digits < 3) millis = millis * 10 + (rest.front() - '0');
      ++digits;
      rest.remove_prefix(1);
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 3; ++digits) millis *= 10;
  }
  if (rest != "Z") return std::nullopt;
  const std::tm asked = tm;
  const time_t seconds = timegm(&tm);
  // timegm normalizes: 31 February comes back as March, and is refused.
  if (tm.tm_year != asked.tm_year || tm.tm_mon != asked.tm_mon || tm.tm_mday != asked.tm_mday ||
      tm.tm_hour != asked.tm_hour || tm.tm_min != asked.tm_min || tm.tm_sec != asked.tm_sec) {
    return std::nullopt;
  }
  return static_cast<int64_t>(seconds) * 1000 + millis;
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
