#include "worker/store/s3_store.h"

namespace sluice::worker {
namespace {

constexpr size_t kMaxKeyBytes = 1024;  // S3's

JobError FromS3(const s3::Error& error) {
  switch (error.kind) {
    case s3::ErrorKind::kNotFound:
      return {FailureReason::kNoSuchKey, error.message};
    case s3::ErrorKind::kAccessDenied:
      return {FailureReason::kAccessDenied, error.message};
    case s3::ErrorKind::kTooLarge:
      return {FailureReason::kTooLarge, error.message};
    case s3::ErrorKind::kRejected:
    case s3::ErrorKind::kUnavailable:
      break;
  }
  return {FailureReason::kStorage, error.message};
}

// Checked before a request: a name S3 would refuse must not reach a URL.
std::optional<JobError> Invalid(const std::string& bucket, const std::string& key) {
  if (!s3::IsValidBucketName(bucket)) {
    return JobError{FailureReason::kInvalidKey, "invalid S3 bucket name: '" + bucket + "'"};
  }
  if (key.empty() || key.size() > kMaxKeyBytes) {
    return JobError{FailureReason::kInvalidKey,
                    "an S3 key has 1 to " + std::to_string(kMaxKeyBytes) + " bytes"};
  }
  return std::nullopt;
}

std::string_view ContentTypeOf(std::string_view key) {
  const size_t dot = key.rfind('.');
  const std::string_view extension = dot == std::string_view::npos ? "" : key.substr(dot + 1);
  if (extension == "jpg" || extension == "jpeg" || extension == "JPG" || extension == "JPEG") {
    return "image/jpeg";
  }
  if (extension == "png" || extension == "PNG") return "image/png";
  if (extension == "webp" || extension == "WEBP") return "image/webp";
  if (extension == "gif" || extension == "GIF") return "image/gif";
  return "application/octet-stream";
}

}  // namespace

Result<std::string, JobError> S3Store::Read(const std::string& bucket, const std::string& key,
                                            size_t max_bytes) const {
  if (auto invalid = Invalid(bucket, key)) return *invalid;
  auto object = client_->Get(bucket, key, max_bytes);
  if (!object.ok()) return FromS3(object.error());
  return std::move(object->data);
}

Result<bool, JobError> S3Store::Write(const std::string& bucket, const std::string& key,
                                      std::string_view data) const {
  if (auto invalid = Invalid(bucket, key)) return *invalid;
  auto put = client_->Put(bucket, key, data, ContentTypeOf(key));
  if (!put.ok()) return FromS3(put.error());
  return true;
}

Result<bool, JobError> S3Store::Move(const std::string& bucket, const std::string& from,
                                     const std::string& to) const {
  if (auto invalid = Invalid(bucket, from)) return *invalid;
  if (auto invalid = Invalid(bucket, to)) return *invalid;
  auto copied = client_->Copy(bucket, from, to);
  if (!copied.ok()) return FromS3(copied.error());
  auto deleted = client_->Delete(bucket, from);
  if (!deleted.ok()) return FromS3(deleted.error());
  return true;
}

}  // namespace sluice::worker
