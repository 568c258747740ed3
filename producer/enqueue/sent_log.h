// SentLog: where the enqueuer records the uploads whose jobs the broker has
// acknowledged, so that no later run sends them again. A file per producer
// for directory buckets (sent_journal.h), objects in the bucket for S3
// (s3_sent_journal.h).
#ifndef SLUICE_PRODUCER_ENQUEUE_SENT_LOG_H_
#define SLUICE_PRODUCER_ENQUEUE_SENT_LOG_H_

#include <vector>

#include "common/status.h"
#include "producer/enqueue/uploads.h"

namespace sluice {

class SentLog {
 public:
  virtual ~SentLog() = default;
  // Records `uploads` as sent. Called from several sender threads at once.
  virtual Status Append(const std::vector<Upload>& uploads) = 0;
};

}  // namespace sluice

#endif  // SLUICE_PRODUCER_ENQUEUE_SENT_LOG_H_
