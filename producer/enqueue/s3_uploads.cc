#include "producer/enqueue/s3_uploads.h"

#include <fstream>
#include <sstream>

#include "common/bucket_layout.h"

namespace sluice {
namespace {

bool IsUpload(const std::string& path) {
  if (path.empty() || path.back() == '/') return false;
  // A dot-directory anywhere in the path is not where uploads are.
  size_t at = 0;
  while (true) {
    const size_t slash = path.find('/', at);
    const std::string component = path.substr(at, slash - at);
    if (slash == std::string::npos) return !IsTemporaryName(component);
    if (component.starts_with('.')) return false;
    at = slash + 1;
  }
}

}  // namespace

Result<std::vector<Upload>, s3::Error> S3Uploads::List(const std::string& prefix) const {
  std::vector<Upload> uploads;
  std::string token;
  do {
    auto page = client_->List(bucket_, prefix, token);
    if (!page.ok()) return page.error();
    for (s3::ObjectInfo& object : page->objects) {
      if (!object.key.starts_with(prefix)) continue;
      Upload upload;
      upload.path = object.key.substr(prefix.size());
      if (!IsUpload(upload.path)) continue;
      upload.size = object.size;
      upload.mtime_ns = object.last_modified_ms * 1'000'000;
      upload.etag = std::move(object.etag);
      uploads.push_back(std::move(upload));
    }
    token = std::move(page->next_continuation_token);
  } while (!token.empty());
  return uploads;
}

Result<Upload, std::string> S3Uploads::Place(const std::string& source,
                                             const std::string& path) const {
  std::ifstream in(source, std::ios::binary);
  if (!in) return "cannot open " + source;
  std::ostringstream data;
  data << in.rdbuf();
  if (!in.good() && !in.eof()) return "cannot read " + source;
  const std::string key = layout::kPending + path;
  auto put = client_->Put(bucket_, key, data.view());
  if (!put.ok()) return put.error().message;
  // What a listing says of it (LastModified as the listing has it), so that
  // its identity here and in a later enqueue run are the same.
  auto page = client_->List(bucket_, key, "", 1);
  if (!page.ok()) return page.error().message;
  if (page->objects.empty() || page->objects.front().key != key) {
    return key + " is not listed after it was put";
  }
  const s3::ObjectInfo& object = page->objects.front();
  return Upload{path, object.size, object.last_modified_ms * 1'000'000, 0, object.etag};
}

}  // namespace sluice
