// The XML that S3 answers with: error bodies and ListObjectsV2 pages,
// parsed with pugixml. A body is untrusted: a missing element reads as empty,
// and a body that is not XML is an error value, never an exception.
#ifndef SLUICE_COMMON_S3_XML_H_
#define SLUICE_COMMON_S3_XML_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sluice::s3 {

// <Error><Code>NoSuchKey</Code><Message>...</Message></Error>; nothing when
// the body is not such a document (a 200 CopyObject answer, say).
struct ErrorBody {
  std::string code;
  std::string message;
};
std::optional<ErrorBody> ParseErrorBody(std::string_view body);

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string etag;              // without its quotes
  int64_t last_modified_ms = 0;  // since the epoch; 0 when not given or not understood
};

struct ListPage {
  std::vector<ObjectInfo> objects;
  std::string next_continuation_token;  // empty on the last page
};

// A ListBucketResult asked for with encoding-type=url: keys are decoded.
Result<ListPage, std::string> ParseListPage(std::string_view body);

// "2026-12-07T18:31:55.075Z" (ISO 8601 in UTC, as S3's XML has times) in
// milliseconds since the epoch; nothing when it is not such a time.
std::optional<int64_t> ParseIsoTime(std::string_view time);

// `etag` without the double quotes S3 puts around it.
std::string Unquote(std::string_view etag);

}  // namespace sluice::s3

#endif  // SLUICE_COMMON_S3_XML_H_
