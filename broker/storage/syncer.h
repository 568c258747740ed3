// Syncer: the fsyncs of FsyncMode::kAlways, on a thread of their own, so
// that the server's loop goes on while the disk works (group commit).
//
// Commits are numbered: Wrote counts one, written() is the last, synced()
// the last known durable. Request asks for an fsync of everything written
// so far: at once, or right after the fsync under way. When one ends, fd()
// becomes readable and Finish says how it went. The thread starts at the
// first request. Every call comes from one thread, the server's loop.
#ifndef SLUICE_BROKER_STORAGE_SYNCER_H_
#define SLUICE_BROKER_STORAGE_SYNCER_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "common/status.h"

namespace sluice {

class Syncer {
 public:
  // `sync` makes everything written so far durable; the thread calls it
  // while the loop goes on writing (SegmentLog::Sync allows that).
  static Result<std::unique_ptr<Syncer>> Create(std::function<Status()> sync);
  ~Syncer();
  Syncer(const Syncer&) = delete;
  Syncer& operator=(const Syncer&) = delete;

  void Wrote() { ++written_; }
  uint64_t written() const { return written_; }
  uint64_t synced() const { return synced_; }
  void Request();
  // An eventfd, readable once an fsync has ended.
  int fd() const { return fd_; }
  // After fd() became readable: the failure of the fsync that ended, or OK
  // and synced() moved up to what it covered. OK and nothing learnt when
  // no fsync has ended since the last call.
  Status Finish();

 private:
  Syncer(std::function<Status()> sync, int fd) : sync_(std::move(sync)), fd_(fd) {}
  void Loop();

  const std::function<Status()> sync_;
  const int fd_;
  uint64_t written_ = 0;
  uint64_t synced_ = 0;
  uint64_t requested_ = 0;  // the last Request's
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t target_ = 0;  // guarded by mu_: generation to make durable
  uint64_t done_ = 0;    // guarded by mu_: generation made durable
  Status status_;        // guarded by mu_: of the last fsync
  bool stop_ = false;    // guarded by mu_
  std::jthread thread_;
};

}  // namespace sluice

#endif  // SLUICE_BROKER_STORAGE_SYNCER_H_
