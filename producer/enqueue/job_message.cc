#include "producer/enqueue/job_message.h"

#include <google/protobuf/util/json_util.h>

#include "common/bucket_layout.h"
#include "common/digest.h"
#include "job.pb.h"

namespace sluice {
namespace {

// A group id is 1-128 printable ASCII characters; a path may be anything.
std::string GroupIdFrom(const std::string& text) {
  std::string id;
  for (unsigned char c : text) {
    id.push_back(c > 32 && c < 127 ? static_cast<char>(c) : '_');
  }
  return id.size() <= 128 ? id : Sha256Hex(text);
}

}  // namespace

std::string DeduplicationId(const std::string& bucket, const Upload& upload) {
  std::string identity = bucket + '\n' + upload.path + '\n' + std::to_string(upload.size) + '\n' +
                         std::to_string(upload.mtime_ns) + '\n' + std::to_string(upload.inode);
  if (!upload.etag.empty()) identity += '\n' + upload.etag;
  return Sha256Hex(identity);
}

std::string MessageGroupId(const JobTemplate& job, const Upload& upload) {
  switch (job.group_by) {
    case GroupBy::kFolder: {
      const size_t slash = upload.path.find('/');
      return GroupIdFrom(slash == std::string::npos ? job.bucket : upload.path.substr(0, slash));
    }
    case GroupBy::kBucket:
      return GroupIdFrom(job.bucket);
    case GroupBy::kKey:
      return GroupIdFrom(upload.path);
  }
  return GroupIdFrom(job.bucket);
}

pb::SendMessageEntry JobMessage(const JobTemplate& job, const Upload& upload) {
  pb::ResizeJob spec;
  spec.set_bucket(job.bucket);
  spec.set_key(layout::kPending + upload.path);
  for (uint32_t size : job.sizes) spec.add_sizes(size);
  spec.set_format(job.format);
  spec.set_quality(job.quality);
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string body;
  (void)google::protobuf::util::MessageToJsonString(spec, &body, options);
  pb::SendMessageEntry entry;
  entry.set_body(body);
  entry.set_message_deduplication_id(DeduplicationId(job.bucket, upload));
  if (job.fifo) entry.set_message_group_id(MessageGroupId(job, upload));
  return entry;
}

}  // namespace sluice
