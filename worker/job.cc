#include "worker/job.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <initializer_list>
#include <nlohmann/json.hpp>

#include "job.pb.h"

namespace sluice::worker {
namespace {

JobError Invalid(std::string detail) { return {FailureReason::kInvalidJob, std::move(detail)}; }

Result<Job, JobError> FromResizeJob(const pb::ResizeJob& spec, const JobDefaults& defaults) {
  Job job;
  job.bucket = spec.bucket();
  job.key = spec.key();
  if (job.bucket.empty() || job.key.empty()) return Invalid("a job needs a bucket and a key");
  job.sizes.assign(spec.sizes().begin(), spec.sizes().end());
  if (job.sizes.empty()) job.sizes = defaults.sizes;
  if (job.sizes.size() > kMaxSizesPerJob) {
    return Invalid("at most " + std::to_string(kMaxSizesPerJob) + " sizes per job");
  }
  for (uint32_t size : job.sizes) {
    if (size == 0 || size > kMaxSize) {
      return Invalid("size " + std::to_string(size) + " is not in 1-" + std::to_string(kMaxSize));
    }
  }
  std::sort(job.sizes.rbegin(), job.sizes.rend());
  job.sizes.erase(std::unique(job.sizes.begin(), job.sizes.end()), job.sizes.end());
  job.format = defaults.format;
  if (!spec.format().empty()) {
    job.format = ParseFormatName(spec.format());
    if (!job.format) return Invalid("unknown output format '" + spec.format() + "'");
  }
  job.quality = spec.quality() == 0 ? defaults.quality : spec.quality();
  if (job.quality > 100) return Invalid("quality must be 1-100");
  job.output_prefix = spec.output_prefix().empty() ? defaults.output_prefix : spec.output_prefix();
  std::vector<std::string> reserved = defaults.waiting_prefixes;
  reserved.push_back(defaults.source_prefix);
  reserved.push_back(defaults.done_prefix);
  for (const std::string& prefix : reserved) {
    if (!prefix.empty() && job.output_prefix.starts_with(prefix)) {
      return Invalid("output_prefix '" + job.output_prefix + "' is where uploads are kept");
    }
  }
  return job;
}

// The string at `path` under `doc`, or nullptr when a step is missing or is
// not an object, or the end is not a string. A body is untrusted: nlohmann's
// operator[] on a const value is undefined for a missing key, and value() and
// get() throw on a wrong type, so every step is checked.
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

Result<std::vector<Job>, JobError> FromS3Event(const nlohmann::json& event,
                                               const JobDefaults& defaults) {
  std::vector<Job> jobs;
  const auto records = event.find("Records");
  if (records == event.end() || !records->is_array()) {
    return Invalid("S3 event: Records is not an array");
  }
  for (const auto& record : *records) {
    const std::string* name = FindString(record, {"eventName"});
    if (name == nullptr || !name->starts_with("ObjectCreated:")) continue;
    const std::string* bucket = FindString(record, {"s3", "bucket", "name"});
    const std::string* encoded_key = FindString(record, {"s3", "object", "key"});
    if (bucket == nullptr || encoded_key == nullptr) {
      return Invalid("S3 event: a record lacks s3.bucket.name or s3.object.key");
    }
    auto key = DecodeS3Key(*encoded_key);
    if (!key) return Invalid("S3 event: malformed URL encoding in s3.object.key");
    pb::ResizeJob spec;
    spec.set_bucket(*bucket);
    spec.set_key(*key);
    auto job = FromResizeJob(spec, defaults);
    if (!job.ok()) return job.error();
    jobs.push_back(std::move(*job));
  }
  return jobs;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "a/b/cat.jpg" -> {"a/b/", "cat", ".jpg"}; the extension is empty when the
// name has none (or only a leading dot).
struct KeyParts {
  std::string dir, stem, extension;
};
KeyParts SplitKey(std::string_view key) {
  const size_t slash = key.rfind('/');
  const size_t name_at = slash == std::string_view::npos ? 0 : slash + 1;
  std::string_view name = key.substr(name_at);
  const size_t dot = name.rfind('.');
  KeyParts parts{std::string(key.substr(0, name_at)), std::string(name), ""};
  if (dot != std::string_view::npos && dot > 0) {
    parts.stem = std::string(name.substr(0, dot));
    parts.extension = std::string(name.substr(dot));
  }
  return parts;
}

std::string_view StripPrefix(std::string_view key, std::string_view prefix) {
  if (!prefix.empty() && key.starts_with(prefix)) key.remove_prefix(prefix.size());
  return key;
}

}  // namespace

std::optional<std::string> DecodeS3Key(std::string_view encoded) {
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

Result<std::vector<Job>, JobError> ParseJobs(std::string_view body, const JobDefaults& defaults) {
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return Invalid("the body is not a JSON object");
  if (doc.contains("Records")) return FromS3Event(doc, defaults);
  const std::string* event = FindString(doc, {"Event"});
  if (event != nullptr && *event == "s3:TestEvent") return std::vector<Job>{};
  pb::ResizeJob spec;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // a newer producer may add fields
  auto status = google::protobuf::util::JsonStringToMessage(std::string(body), &spec, options);
  if (!status.ok()) return Invalid("the body is not a ResizeJob: " + status.ToString());
  auto job = FromResizeJob(spec, defaults);
  if (!job.ok()) return job.error();
  return std::vector<Job>{std::move(*job)};
}

std::string OutputKey(const Job& job, const JobDefaults& defaults, uint32_t box,
                      ImageFormat input_format, ImageFormat output_format) {
  KeyParts parts = SplitKey(StripPrefix(job.key, defaults.source_prefix));
  std::string extension = parts.extension;
  if (extension.empty() || output_format != input_format) {
    extension = std::string(".") + Extension(output_format);
  }
  return job.output_prefix + parts.dir + parts.stem + "-" + std::to_string(box) + extension;
}

std::vector<std::string> SourceKeys(const std::string& key, const JobDefaults& defaults) {
  std::vector<std::string> keys = {key};
  const std::string_view relative = StripPrefix(key, defaults.source_prefix);
  for (const std::string& prefix : defaults.waiting_prefixes) {
    keys.push_back(prefix + std::string(relative));
  }
  return keys;
}

std::string DoneKey(const std::string& key, const JobDefaults& defaults) {
  if (defaults.done_prefix.empty()) return "";
  return defaults.done_prefix + std::string(StripPrefix(key, defaults.source_prefix));
}

}  // namespace sluice::worker
