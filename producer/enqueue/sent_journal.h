// SentJournal: which uploads in queued/ have had their job acknowledged.
//
// A claim is one rename, pending/<p> to queued/<p>; the job is sent after it.
// So an upload in queued/ is either sent (its send acknowledged) or not yet,
// and the journal tells which: after the broker acknowledges a batch, its
// uploads are appended to this producer's journal, one line each, in one
// write(). Each producer has its own journal under queued/.sluice-sent/ (a
// dot-directory, which listings skip) and holds flock(LOCK_EX) on it while it
// runs, so another producer can tell a live journal from a dead one.
//
// An entry names the upload's path and its identity (size, modification time,
// inode: what its deduplication id is made of), so an entry left from an
// earlier upload at the same path does not stand for a new one.
//
// No fsync: the appended page survives kill -9 of the process, which is what
// the producer promises to survive. A machine crash may lose the last appends;
// their uploads are then sent again at the next start, which the broker drops
// by deduplication id if within five minutes (docs/producer.md).
#ifndef SLUICE_PRODUCER_ENQUEUE_SENT_JOURNAL_H_
#define SLUICE_PRODUCER_ENQUEUE_SENT_JOURNAL_H_

#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/status.h"
#include "producer/enqueue/sent_log.h"
#include "producer/enqueue/uploads.h"

namespace sluice {

class SentJournal : public SentLog {
 public:
  // Creates and locks this producer's journal in `bucket_dir`/queued/.sluice-sent/
  // and reads every journal there: what they name is Sent(). The journal of a
  // producer that is gone (its lock can be taken) is merged into ours (the
  // entries whose upload is still in queued/) and deleted, so journals do not
  // pile up. Starting producers take turns at this (a lock on the directory),
  // so none of them reads a journal half merged.
  static Result<std::unique_ptr<SentJournal>> Open(const std::string& bucket_dir);
  ~SentJournal() override;  // closes the journal, which releases its lock

  SentJournal(const SentJournal&) = delete;
  SentJournal& operator=(const SentJournal&) = delete;

  // Whether a journal named `upload` (path and identity) when Open ran.
  bool Sent(const Upload& upload) const { return sent_.count(Entry(upload)) != 0; }
  size_t recovered() const { return sent_.size(); }

  // Appends `uploads`, one write() (more only after a short write).
  Status Append(const std::vector<Upload>& uploads) override;

  const std::string& path() const { return path_; }

  // The journal line of `upload`, without its newline: "size mtime inode path",
  // with '\' and newline in the path escaped.
  static std::string Entry(const Upload& upload);
  // The upload an entry names; false if it is not one.
  static bool ParseEntry(const std::string& entry, Upload* upload);
  // Every complete line of the journal at `path` (a torn last line is left
  // out: its uploads count as not sent, and are sent again).
  static std::vector<std::string> ReadEntries(const std::string& path);

 private:
  SentJournal(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  Status Append(const std::string& lines);

  const std::string path_;
  const int fd_;
  std::mutex mu_;
  std::unordered_set<std::string> sent_;
};

}  // namespace sluice

#endif  // SLUICE_PRODUCER_ENQUEUE_SENT_JOURNAL_H_
