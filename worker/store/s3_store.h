// S3Store: buckets in S3-compatible object storage (AWS, Ceph RGW, MinIO),
// through one s3::Client (common/s3/client.h) shared by the job threads,
// each of which reuses its own connection.
//
// A job costs one GET, a PUT per output, and the move of its original: S3 has
// no rename, so Move is a CopyObject and then a DeleteObject. StartMove sends
// the copy at once, from a thread of its own, so that it overlaps the resize;
// Finish() waits for it and deletes, and Abandon() deletes the copy. A crash
// between the copy and the delete leaves the object at both keys; the job's
// next delivery finds it at `from` again, copies it again over `to` and
// deletes it, so the move is safe to repeat. S3 errors become JobErrors: 404 kNoSuchKey, 403
// kAccessDenied, an object over the cap kTooLarge (refused from its
// Content-Length), and the rest, after the client's retries, kStorage.
#ifndef SLUICE_WORKER_STORE_S3_STORE_H_
#define SLUICE_WORKER_STORE_S3_STORE_H_

#include <memory>
#include <optional>

#include "common/s3/client.h"
#include "worker/store/bucket_store.h"

namespace sluice::worker {

class S3Store : public BucketStore {
 public:
  explicit S3Store(std::unique_ptr<s3::Client> client) : client_(std::move(client)) {}

  Result<std::string, JobError> Read(const std::string& bucket, const std::string& key,
                                     size_t max_bytes) const override;
  // With the Content-Type of the key's extension, so that the outputs serve
  // well from the bucket.
  Result<bool, JobError> Write(const std::string& bucket, const std::string& key,
                               std::string_view data) const override;
  Result<bool, JobError> Move(const std::string& bucket, const std::string& from,
                              const std::string& to) const override;
  std::unique_ptr<PendingMove> StartMove(const std::string& bucket, const std::string& from,
                                         const std::string& to) const override;

 private:
  std::unique_ptr<s3::Client> client_;
};

}  // namespace sluice::worker

#endif  // SLUICE_WORKER_STORE_S3_STORE_H_
