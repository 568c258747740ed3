// The message that asks a worker to resize one upload: a ResizeJob
// (proto/job.proto) in JSON naming the upload by its pending/ key, with the
// producer's job options, a deduplication id that is the same every time the
// same upload is sent, and for a FIFO queue its message group.
#ifndef SLUICE_PRODUCER_ENQUEUE_JOB_MESSAGE_H_
#define SLUICE_PRODUCER_ENQUEUE_JOB_MESSAGE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "producer/enqueue/uploads.h"
#include "sluice.pb.h"

namespace sluice {

// What the message group of an upload on a FIFO queue is.
enum class GroupBy {
  kFolder,  // its top folder under pending/ ("alice" for alice/2026/cat.jpg), so
            // one user's photos keep their order; the bucket for top-level files
  kBucket,  // one group for the whole bucket: strict order, one at a time
  kKey,     // each upload its own group: no order, most parallel
};

struct JobTemplate {
  std::string bucket;
  std::vector<uint32_t> sizes;  // empty: the worker's
  std::string format;           // empty: the worker's
  uint32_t quality = 0;         // 0: the worker's
  bool fifo = false;
  GroupBy group_by = GroupBy::kFolder;
};

// SHA-256 of the bucket, path, size, modification time and inode (on S3,
// LastModified and the ETag): the same for the same upload however often it
// is sent, different for a new upload at the same path.
std::string DeduplicationId(const std::string& bucket, const Upload& upload);

std::string MessageGroupId(const JobTemplate& job, const Upload& upload);

pb::SendMessageEntry JobMessage(const JobTemplate& job, const Upload& upload);

}  // namespace sluice

#endif  // SLUICE_PRODUCER_ENQUEUE_JOB_MESSAGE_H_
