#include "worker/store/s3_store.h"

#include <future>
#include <system_error>

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

// The copy sent at StartMove, on a thread of its own.
class S3PendingMove : public PendingMove {
 public:
  S3PendingMove(s3::Client* client, std::string bucket, std::string from, std::string to)
      : client_(client), bucket_(std::move(bucket)), from_(std::move(from)), to_(std::move(to)) {
    try {
      copied_ =
          std::async(std::launch::async, [this] { return client_->Copy(bucket_, from_, to_); });
    } catch (const std::system_error&) {
      // No thread to be had: the copy is made in Finish().
    }
  }
  ~S3PendingMove() override {
    if (copied_.valid()) copied_.wait();
  }

  Result<bool, JobError> Finish() override {
    auto copied = Copied();
    if (!copied.ok()) return FromS3(copied.error());
    auto deleted = client_->Delete(bucket_, from_);
    if (!deleted.ok()) return FromS3(deleted.error());
    return true;
  }

  void Abandon() override {
    // The object is still at `from`; the copy is undone so that a failed job
    // leaves nothing behind. If this delete fails, a copy stays at `to`; the
    // job's next delivery writes over it.
    if (Copied().ok()) (void)client_->Delete(bucket_, to_);
  }

 private:
  Result<bool, s3::Error> Copied() {
    if (copied_.valid()) return copied_.get();
    return client_->Copy(bucket_, from_, to_);
  }

  s3::Client* const client_;
  const std::string bucket_, from_, to_;
  std::future<Result<bool, s3::Error>> copied_;
};

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

std::unique_ptr<PendingMove> S3Store::StartMove(const std::string& bucket, const std::string& from,
                                                const std::string& to) const {
  if (Invalid(bucket, from) || Invalid(bucket, to)) return BucketStore::StartMove(bucket, from, to);
  return std::make_unique<S3PendingMove>(client_.get(), bucket, from, to);
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
