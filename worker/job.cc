#include "worker/job.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
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

Result<ParsedJobs, JobError> FromS3Event(const nlohmann::json& doc, const JobDefaults& defaults) {
  auto event = s3::ParseEvent(doc);
  if (!event.ok()) return Invalid(event.error());
  ParsedJobs parsed;
  parsed.skipped = std::move(event->skipped);
  for (const s3::EventRecord& record : event->created) {
    pb::ResizeJob spec;
    spec.set_bucket(record.bucket);
    spec.set_key(record.key);
    auto job = FromResizeJob(spec, defaults);
    if (!job.ok()) return job.error();
    parsed.jobs.push_back(std::move(*job));
  }
  return parsed;
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

Result<ParsedJobs, JobError> ParseJobs(std::string_view body, const JobDefaults& defaults) {
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return Invalid("the body is not a JSON object");
  if (s3::IsEvent(doc)) return FromS3Event(doc, defaults);
  pb::ResizeJob spec;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // a newer producer may add fields
  auto status = google::protobuf::util::JsonStringToMessage(std::string(body), &spec, options);
  if (!status.ok()) return Invalid("the body is not a ResizeJob: " + status.ToString());
  auto job = FromResizeJob(spec, defaults);
  if (!job.ok()) return job.error();
  return ParsedJobs{{std::move(*job)}, {}};
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
