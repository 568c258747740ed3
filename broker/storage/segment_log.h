// SegmentLog: the broker's write-ahead log, a directory of numbered segment
// files that records are appended to, one segment at a time.
//
// Records are collected in memory during a turn (Append) and written as one
// batch with one write(2) (Write), so a turn's changes are kept or lost
// together. A batch is a 20-byte header (little-endian: CRC-32C of the next
// 16 bytes, length, record count, CRC-32C of the rest, and how much of the
// segment the last finished Sync had made durable) and its records, each an
// 8-byte header (payload length, type) and the payload. Sync makes what was
// written durable and may run on another thread while the loop goes on
// writing. A position (segment number, offset of a payload) names a record's
// payload for as long as its segment exists.
//
// A segment's blocks are reserved before it takes writes (fallocate, which
// keeps the file's size), so that once the broker runs, a disk that others
// fill cannot fail the small writes of receives and deletes. The next
// segment is reserved ahead, as the file "spare": a full disk stops neither
// the next segment nor a restart (which starts a segment too).
// The calls that take disk space or make it durable go through FileOps, so
// that tests can play a full disk.
//
// Replay reads every record back in order. A damaged batch in the last
// segment that no later whole batch says was synced is a write torn by a
// crash: it is cut off, with what follows it, and logged. Any other damage
// fails Replay with the file and offset.
#ifndef SLUICE_BROKER_STORAGE_SEGMENT_LOG_H_
#define SLUICE_BROKER_STORAGE_SEGMENT_LOG_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/storage/file_ops.h"
#include "common/status.h"

namespace sluice {

// Where a payload is: segment number in the high 32 bits, offset below.
using LogPosition = uint64_t;
inline uint32_t SegmentOf(LogPosition p) { return static_cast<uint32_t>(p >> 32); }

struct LogRecord {
  uint32_t type;
  std::string_view payload;
  LogPosition position;
};

class SegmentLog {
 public:
  // A segment holds about this much before the next one is started.
  static constexpr uint64_t kSegmentBytes = 64ull << 20;
  // Disk blocks reserved for a segment: it ends with the batch that takes it
  // past kSegmentBytes, and with the disk below the broker's reserve (sends
  // refused) a batch is at most a compaction slice (2 MiB) and a body, or a
  // turn of receives and deletes, so that batch still lands in reserved
  // blocks.
  static constexpr uint64_t kReservedBytes = kSegmentBytes + (8ull << 20);
  static constexpr size_t kBatchHeaderBytes = 20;
  static constexpr size_t kRecordHeaderBytes = 8;

  // Opens the log in `dir`, creating it (and missing parents) durably if it is
  // missing. Writes, reservations and syncs go through `files`, which must
  // outlive the log.
  static Result<std::unique_ptr<SegmentLog>> Open(const std::string& dir,
                                                  FileOps* files = FileOps::System());
  ~SegmentLog();

  // Calls `visit` for every record, oldest first, then starts a new segment
  // for appends. Call once, before anything is appended.
  Status Replay(const std::function<Status(const LogRecord&)>& visit);

  // Adds a record, made of `parts` back to back, to the pending write and
  // returns its payload's position.
  LogPosition Append(uint32_t type, std::initializer_list<std::string_view> parts);
  bool HasPending() const { return !pending_.empty(); }
  // Writes the pending records to the current segment (not synced) and, once
  // it is full, starts the next one. On failure (a full disk) the records are
  // dropped and the segment is left ending with its last whole batch.
  Status Write();
  size_t pending_bytes() const { return pending_.size(); }
  // Makes everything written so far durable (fdatasync). Safe to call from
  // another thread while Write runs.
  Status Sync();
  // When the last Sync covered everything written and no batch records it
  // yet, writes an empty batch that does (not synced itself): a log that
  // goes idle after a sync then still tells recovery which batches were
  // synced. Call from the thread that writes; nothing may be pending.
  Status MarkSynced();
  // Ends the current segment (synced) and starts a new one; returns the
  // number of the segment it ended. Nothing may be pending.
  Result<uint32_t> Rotate();
  // Deletes the segments numbered `last` and below. Their files are
  // unlinked at once but closed by CloseDropped, one a call: closing the
  // last descriptor of a deleted file drops its pages from the cache, tens
  // of milliseconds for a full segment.
  Status DropThrough(uint32_t last);
  // Closes one segment that DropThrough deleted, if any.
  void CloseDropped();
  bool HasDropped() const { return !dropped_.empty(); }

  // Reads `size` bytes at `at`, written or still pending.
  Status Read(LogPosition at, uint32_t size, std::string* out) const;
  bool HasSegment(uint32_t number) const { return segments_.count(number) > 0; }
  // Each segment's number and bytes written, oldest first; the last one is
  // the one appended to.
  std::vector<std::pair<uint32_t, uint64_t>> SegmentSizes() const;
  // The segment appended to.
  uint32_t active_segment() const { return SegmentOf(written_.load()); }
  // Bytes in all segments, pending ones included.
  uint64_t bytes() const { return bytes_ + pending_.size(); }

 private:
  struct Segment;
  SegmentLog(std::string dir, FileOps* files) : dir_(std::move(dir)), files_(files) {}
  std::string PathOf(uint32_t number) const;
  // Checks the directory's FORMAT file, or writes it into a new log.
  Status CheckFormat();
  // Starts segment `number` from the spare (or a new file when there is
  // none), then reserves a new spare.
  Status StartSegment(uint32_t number);
  // Reserves kReservedBytes of disk blocks for `fd` (fallocate, keeping its
  // size); logs a failure (a full disk), which only leaves writes unguarded.
  void Reserve(int fd, const std::string& path);
  // Writes the FORMAT file (whole, then renamed into place).
  Status WriteFormat();
  Status ReplaySegment(const std::shared_ptr<Segment>& segment, bool last,
                       const std::function<Status(const LogRecord&)>& visit);

  // Writes the whole of `data` to `fd`, going on after a short write.
  Status WriteAll(int fd, std::string_view data);

  std::string dir_;
  FileOps* files_;
  int dir_fd_ = -1;
  std::map<uint32_t, std::shared_ptr<Segment>> segments_;
  std::deque<std::shared_ptr<Segment>> dropped_;  // deleted, not closed yet
  // The segment appended to; the syncer thread reads it under mu_.
  mutable std::mutex mu_;
  std::shared_ptr<Segment> active_;
  std::string pending_;  // appended, not yet written: a batch being built
  uint32_t pending_records_ = 0;
  uint64_t bytes_ = 0;  // written to all segments
  // Of the segment appended to: what Write has written, and what a Sync has
  // made durable. Each batch records the latter, so that recovery can tell
  // damage to writes never synced (a crash of the machine) from corruption.
  std::atomic<LogPosition> written_{0};
  std::atomic<LogPosition> synced_{0};
  uint32_t recorded_synced_ = 0;      // in the last batch written (writing thread)
  Status broken_;                     // a failed write that could not be cut off: no more writes
  bool reserve_unsupported_ = false;  // the filesystem has no fallocate (logged once)
};

}  // namespace sluice

#endif  // SLUICE_BROKER_STORAGE_SEGMENT_LOG_H_
