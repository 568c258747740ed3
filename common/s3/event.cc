#include "common/s3/event.h"

#include <initializer_list>

#include "common/digest.h"

namespace sluice::s3 {
namespace {

// The string at `path` under `doc`, or nullptr when a step is missing or is
// not an object, or the end is not a string. nlohmann's operator[] on a const
// value is undefined for a missing key, and value() and get() throw on a
// wrong type, so every step is checked.
const std::string* FindString(const nlohmann::json& doc, std::initializer_list<const char*> path) {
  const nlohmann::json* at = &doc;
  for (const char* step : path) {
    if (!at->is_object()) return nullptr;
    const auto it = at->find(step);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at->is_string() ? at->get_ptr<const std::string*>() : nullptr;
}

std::string StringOr(const nlohmann::json& doc, std::initializer_list<const char*> path) {
  const std::string* s = FindString(doc, path);
  return s != nullptr ? *s : "";
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool KeyIsEncoded(std::string_view source) { return source == "aws:s3" || source == "minio:s3"; }

}  // namespace

std::optional<std::string> DecodeKey(std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    const char c = encoded[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= encoded.size()) return std::nullopt;
      const int hi = HexValue(encoded[i + 1]);
      const int lo = HexValue(encoded[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool IsEvent(const nlohmann::json& doc) {
  if (!doc.is_object()) return false;
  if (doc.contains("Records")) return true;
  const std::string* event = FindString(doc, {"Event"});
  return event != nullptr && *event == "s3:TestEvent";
}

Result<Event, std::string> ParseEvent(const nlohmann::json& doc) {
  Event event;
  if (!doc.is_object()) return std::string("S3 event: the body is not a JSON object");
  const auto records = doc.find("Records");
  if (records == doc.end()) {
    const std::string* name = FindString(doc, {"Event"});
    if (name != nullptr && *name == "s3:TestEvent") {
      event.test_event = true;
      return event;
    }
    return std::string("S3 event: no Records");
  }
  if (!records->is_array()) return std::string("S3 event: Records is not an array");
  for (size_t index = 0; index < records->size(); ++index) {
    const nlohmann::json& record = (*records)[index];
    const std::string* name = FindString(record, {"eventName"});
    std::string_view bare = name != nullptr ? std::string_view(*name) : std::string_view();
    if (bare.starts_with("s3:")) bare.remove_prefix(3);
    if (!bare.starts_with("ObjectCreated:")) {
      event.skipped.push_back({name != nullptr ? *name : "", "not_object_created"});
      continue;
    }
    const std::string* bucket = FindString(record, {"s3", "bucket", "name"});
    const std::string* key = FindString(record, {"s3", "object", "key"});
    if (bucket == nullptr || key == nullptr) {
      return std::string("S3 event: a record lacks s3.bucket.name or s3.object.key");
    }
    EventRecord created;
    created.index = index;
    created.event_name = std::string(bare);
    created.source = StringOr(record, {"eventSource"});
    created.bucket = *bucket;
    if (KeyIsEncoded(created.source)) {
      auto decoded = DecodeKey(*key);
      if (!decoded) return std::string("S3 event: malformed URL encoding in s3.object.key");
      created.key = std::move(*decoded);
    } else {
      created.key = *key;
    }
    created.etag = StringOr(record, {"s3", "object", "eTag"});
    created.sequencer = StringOr(record, {"s3", "object", "sequencer"});
    event.created.push_back(std::move(created));
  }
  return event;
}

std::string DeduplicationId(const EventRecord& record) {
  return Sha256Hex(record.bucket + '\n' + record.key + '\n' + record.etag + '\n' +
                   record.sequencer);
}

}  // namespace sluice::s3
