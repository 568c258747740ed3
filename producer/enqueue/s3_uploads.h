// S3Uploads: the uploads waiting under pending/ in an S3 bucket, listed with
// ListObjectsV2 page by page, and the PutObject that `upload` places them with.
//
// Nothing moves an upload out of pending/ before its worker is done (S3 has
// no rename, and a copy and a delete per upload would cost more than the job
// message), so which uploads have had their job sent is the S3 sent
// journal's (s3_sent_journal.h). An upload is named by its key, size,
// LastModified and ETag: a new upload at the same key is a new job.
// Temporary names (IsTemporaryName) and "folder" markers (keys ending in
// '/') are not uploads.
#ifndef SLUICE_PRODUCER_ENQUEUE_S3_UPLOADS_H_
#define SLUICE_PRODUCER_ENQUEUE_S3_UPLOADS_H_

#include <string>
#include <vector>

#include "common/s3/client.h"
#include "producer/enqueue/uploads.h"

namespace sluice {

class S3Uploads {
 public:
  S3Uploads(s3::Client* client, std::string bucket) : client_(client), bucket_(std::move(bucket)) {}

  const std::string& bucket() const { return bucket_; }
  s3::Client* client() const { return client_; }

  // Every upload under `prefix`, paths relative to it, in key order.
  Result<std::vector<Upload>, s3::Error> List(const std::string& prefix) const;

  // Puts the file at `source` at pending/<path>; the Upload as a later
  // listing will name it.
  Result<Upload, std::string> Place(const std::string& source, const std::string& path) const;

 private:
  s3::Client* client_;
  std::string bucket_;
};

}  // namespace sluice

#endif  // SLUICE_PRODUCER_ENQUEUE_S3_UPLOADS_H_
