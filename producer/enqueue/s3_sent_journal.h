// S3SentJournal: which uploads in an S3 bucket's pending/ have had their job
// acknowledged, kept as objects in the bucket, so that a producer needs no
// disk of its own (a pod with no volume).
//
// S3 has no append, so the journal is a series of segments: after the broker
// acknowledges a batch its uploads are buffered, and the buffer is put as one
// object, queued/.sluice-sent/<run>-<n>.journal, once it holds 1,000 entries
// or its oldest entry is a second old, and at Flush(). An entry is "size
// last-modified-ms etag path", so an entry left from an earlier upload at
// the same key does not stand for a new one.
//
// Open() reads every segment. Compact() merges the segments more than ten
// minutes old into one, keeping the entries whose upload is still in
// pending/, and deletes them, so segments do not pile up. (Their uploads were
// listed before the segment was written, so a listing taken now shows every
// one still waiting: nothing another producer journaled meanwhile is lost.)
//
// The limit: a producer killed with entries still buffered (at most a second
// of them) has not journaled those sends; the next run sends them again,
// which the broker drops by deduplication id within five minutes, as for a
// directory bucket (docs/producer.md).
#ifndef SLUICE_PRODUCER_ENQUEUE_S3_SENT_JOURNAL_H_
#define SLUICE_PRODUCER_ENQUEUE_S3_SENT_JOURNAL_H_

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/s3/client.h"
#include "producer/enqueue/sent_log.h"
#include "producer/enqueue/uploads.h"

namespace sluice {

class S3SentJournal : public SentLog {
 public:
  static Result<std::unique_ptr<S3SentJournal>, s3::Error> Open(s3::Client* client,
                                                                std::string bucket);
  ~S3SentJournal() override;  // Flush()

  bool Sent(const Upload& upload) const;
  size_t recovered() const { return sent_.size(); }

  Status Append(const std::vector<Upload>& uploads) override;
  // Puts what is buffered as a segment.
  Status Flush();
  // Merges the old segments read at Open (see above) given `pending`, every
  // upload now in pending/.
  Status Compact(const std::vector<Upload>& pending);

  static std::string Entry(const Upload& upload);
  static bool ParseEntry(const std::string& entry, Upload* upload);

 private:
  struct Segment {
    std::string key;
    std::vector<std::string> entries;
    bool old = false;  // older than the compaction age when read
  };

  S3SentJournal(s3::Client* client, std::string bucket, std::string run)
      : client_(client), bucket_(std::move(bucket)), run_(std::move(run)) {}
  Status PutSegment(const std::string& lines);  // mu_ held
  // Puts the buffer as a segment and empties it; kept when the put fails.
  Status PutBuffer();  // mu_ held

  s3::Client* const client_;
  const std::string bucket_;
  const std::string run_;  // this run's segments are named after it
  std::vector<Segment> read_;
  std::unordered_set<std::string> sent_;

  std::mutex mu_;
  std::string buffer_;
  size_t buffered_ = 0;
  std::chrono::steady_clock::time_point oldest_;
  uint64_t next_segment_ = 0;
};

}  // namespace sluice

#endif  // SLUICE_PRODUCER_ENQUEUE_S3_SENT_JOURNAL_H_
