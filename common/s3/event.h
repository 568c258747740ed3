// S3 event notifications: the JSON bodies that Amazon S3 sends to SQS, SNS or
// Lambda, and that MinIO and Ceph RGW push to a webhook.
//
// The three agree on the shape, {"Records": [{"eventName", "eventSource",
// "s3": {"bucket": {"name"}, "object": {"key", "eTag", "sequencer"}}}]},
// and differ in two details that matter here:
//   - the event name: "ObjectCreated:Put" (AWS, RGW) or "s3:ObjectCreated:Put"
//     (MinIO); the "s3:" prefix is dropped;
//   - the key: URL-encoded ("+" for a space) when eventSource is "aws:s3" or
//     "minio:s3", sent as it is by RGW ("ceph:s3"), so that "a b+c%.jpg"
//     arrives literally. It is decoded only for the first two.
// A body is untrusted: every step into it is type-checked.
#ifndef SLUICE_COMMON_S3_EVENT_H_
#define SLUICE_COMMON_S3_EVENT_H_

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sluice::s3 {

struct EventRecord {
  size_t index = 0;        // its place in Records
  std::string event_name;  // without the "s3:" prefix: "ObjectCreated:Put"
  std::string source;      // "aws:s3", "minio:s3", "ceph:s3", or empty
  std::string bucket;
  std::string key;  // decoded as its source requires
  std::string etag;
  std::string sequencer;
};

// A record that names no new object, and why it was left out.
struct SkippedRecord {
  std::string event_name;  // as sent
  std::string reason;      // "not_object_created"
};

struct Event {
  bool test_event = false;  // s3:TestEvent, which S3 sends when notifications are configured
  std::vector<EventRecord> created;  // the ObjectCreated records, in order
  std::vector<SkippedRecord> skipped;
};

// Whether `doc` looks like an event notification (it has Records, or is a
// test event) rather than some other message.
bool IsEvent(const nlohmann::json& doc);

// The event in `doc`. An error when Records is not an array, or when an
// ObjectCreated record lacks its bucket name or key or has a malformed
// escape in a key that is URL-encoded.
Result<Event, std::string> ParseEvent(const nlohmann::json& doc);

// "%XX" escapes, and "+" for a space; nothing on a malformed escape.
std::optional<std::string> DecodeKey(std::string_view encoded);

// The same for every delivery of one notification, different for a new
// upload at the same key: SHA-256 of the bucket, the key, the ETag and the
// sequencer (which a pusher's retry repeats, and a new upload of the same
// bytes does not).
std::string DeduplicationId(const EventRecord& record);

}  // namespace sluice::s3

#endif  // SLUICE_COMMON_S3_EVENT_H_
