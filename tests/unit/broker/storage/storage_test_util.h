// Test helpers shared by the log's and the storage's unit tests: whole-file
// reads and writes, a full disk by RLIMIT_FSIZE or by a fake of the log's
// file calls, a look at what spdlog logged, and StorageTest, the fixture of
// the storage's tests (an Engine on a Storage in a directory of its own,
// reopened and recovered on a FakeClock that goes on across reopens).
#ifndef SLUICE_TESTS_UNIT_BROKER_STORAGE_STORAGE_TEST_UTIL_H_
#define SLUICE_TESTS_UNIT_BROKER_STORAGE_STORAGE_TEST_UTIL_H_

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "broker/storage/file_ops.h"
#include "broker/storage/storage.h"
#include "tests/unit/broker/engine/engine_test_util.h"

namespace sluice::testing {

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void WriteFile(const std::filesystem::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// While it lives, no file of the process may grow past `bytes`, as on a full
// disk: RLIMIT_FSIZE's soft limit is lowered to it and SIGXFSZ ignored, so a
// write(2) that crosses the limit is cut short there and the next one fails
// with EFBIG (instead of the signal killing the process). The old limit and
// the old disposition of SIGXFSZ come back when it goes. The limit is on each
// file's size (the offset a write ends at), not on bytes written, so limits
// are computed from the sizes of the files on disk. It holds for every file,
// a redirected stdout or stderr too: keep it to the calls meant to fail and
// check what they did after it is gone.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(uint64_t bytes) {
    struct sigaction ignore = {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    EXPECT_EQ(::sigaction(SIGXFSZ, &ignore, &old_action_), 0) << std::strerror(errno);
    EXPECT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit_), 0) << std::strerror(errno);
    rlimit limit = old_limit_;
    limit.rlim_cur = static_cast<rlim_t>(bytes);
    EXPECT_EQ(::setrlimit(RLIMIT_FSIZE, &limit), 0) << std::strerror(errno);
  }
  ~FileSizeLimit() {
    // The limit goes first, so that no write can raise SIGXFSZ once its
    // default disposition (kill) is back.
    EXPECT_EQ(::setrlimit(RLIMIT_FSIZE, &old_limit_), 0) << std::strerror(errno);
    EXPECT_EQ(::sigaction(SIGXFSZ, &old_action_, nullptr), 0) << std::strerror(errno);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  struct sigaction old_action_ = {};
  rlimit old_limit_ = {};
};

// Captures what is logged through spdlog's default logger while it lives.
class LogCapture {
 public:
  LogCapture()
      : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256)),
        previous_(spdlog::default_logger()) {
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink_));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }

  // The lines logged that contain `text`.
  std::vector<std::string> Find(const std::string& text) {
    std::vector<std::string> found;
    for (const std::string& line : sink_->last_formatted()) {
      if (line.find(text) != std::string::npos) found.push_back(line);
    }
    return found;
  }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

// A disk for the log's file calls (FileOps), to play a full disk or a short
// write without root or a filesystem of the test's own. The calls reach the
// real files, but the disk has `free` blocks (bytes) of its own: an
// fallocate, or a write past what a file already holds, takes from them and
// fails with ENOSPC where they run out, a write after writing what fits.
// Blocks are counted by file (inode), so the spare's reservation holds for
// the segment it becomes; blocks that a cut or a deletion frees stay taken,
// so the disk stays as full as the test made it.
class FakeDisk final : public FileOps {
 public:
  explicit FakeDisk(uint64_t free_bytes) : free_(free_bytes) {}

  uint64_t free_bytes() const { return free_; }
  void set_free(uint64_t bytes) { free_ = bytes; }
  // The next writes write `bytes` in all, then fail with ENOSPC, whatever
  // was reserved: a disk that fills under a write.
  void FailWritesAfter(uint64_t bytes) { write_budget_ = bytes; }
  void AllowWrites() { write_budget_.reset(); }
  // The next `count` writes write at most `bytes` each, as a write(2) may.
  void ShortenWrites(int count, size_t bytes) {
    short_writes_ = count;
    short_bytes_ = bytes;
  }
  // fdatasync fails with EIO from now on.
  void FailSyncs() { fail_syncs_ = true; }

  ssize_t Write(int fd, const void* data, size_t size) override {
    const uint64_t offset = static_cast<uint64_t>(::lseek(fd, 0, SEEK_CUR));
    uint64_t& held = held_[Inode(fd)];
    uint64_t n = std::min<uint64_t>(size, held + free_ > offset ? held + free_ - offset : 0);
    if (write_budget_) n = std::min(n, *write_budget_);
    if (short_writes_ > 0) {
      --short_writes_;
      n = std::min<uint64_t>(n, short_bytes_);
    }
    if (n == 0) {
      errno = ENOSPC;
      return -1;
    }
    const ssize_t written = ::write(fd, data, n);
    if (written <= 0) return written;
    const uint64_t end = offset + static_cast<uint64_t>(written);
    if (end > held) {
      free_ -= end - held;
      held = end;
    }
    if (write_budget_) *write_budget_ -= static_cast<uint64_t>(written);
    return written;
  }
  int Fallocate(int fd, int mode, off_t offset, off_t length) override {
    uint64_t& held = held_[Inode(fd)];
    const uint64_t end = static_cast<uint64_t>(offset + length);
    if (end > held) {
      if (end - held > free_) {
        errno = ENOSPC;
        return -1;
      }
      free_ -= end - held;
      held = end;
    }
    return ::fallocate(fd, mode, offset, length);
  }
  int Fdatasync(int fd) override {
    if (fail_syncs_) {
      errno = EIO;
      return -1;
    }
    return ::fdatasync(fd);
  }

 private:
  static ino_t Inode(int fd) {
    struct stat st;
    return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
  }

  uint64_t free_;
  std::map<ino_t, uint64_t> held_;  // blocks taken, by file
  std::optional<uint64_t> write_budget_;
  int short_writes_ = 0;
  size_t short_bytes_ = 0;
  bool fail_syncs_ = false;
};

// A body that names its message and has `size` bytes.
inline std::string Body(const std::string& tag, int i, size_t size = 64) {
  std::string body = tag + "-" + std::to_string(i) + "-";
  while (body.size() < size) {
    body += static_cast<char>('a' + (body.size() + static_cast<size_t>(i)) % 26);
  }
  return body;
}

inline std::string Attr(const pb::Message& m, const std::string& name) {
  auto it = m.attributes().find(name);
  return it == m.attributes().end() ? "" : it->second;
}

class StorageTest : public EngineTest {
 protected:
  StorageTest() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "sluice-storage-XXXXXX").string();
    const char* made = ::mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr) << "mkdtemp failed";
    dir_ = pattern;
  }
  ~StorageTest() override {
    Close();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(Reopen()); }

  // Drops the engine and the storage, as a stopped (or killed) broker would:
  // whatever was not committed is lost.
  void Close() {
    engine_.reset();
    storage_.reset();
  }

  // Opens the storage in dir_ again and recovers it into a new Engine on the
  // same clock, as a restarted broker does.
  void Reopen() {
    Close();
    auto opened = Storage::Open(dir_.string(), options_);
    ASSERT_TRUE(opened.ok()) << opened.status().detail();
    storage_ = std::move(*opened);
    // A restarted broker seeds its message ids afresh.
    ResetEngine({.inflight_limit = kInflightLimit,
                 .seed = 1000 + ++opens_,
                 .receipt_secret = storage_->receipt_secret(),
                 .journal = storage_.get()});
    ASSERT_OK(storage_->Recover(engine_.get()));
  }

  void Commit() { ASSERT_OK(storage_->Commit()); }
  void CommitAndReopen() {
    ASSERT_NO_FATAL_FAILURE(Commit());
    ASSERT_NO_FATAL_FAILURE(Reopen());
  }

  // Keeps committing while a compaction runs (an idle broker's loop does the
  // same); how many commits it took. Fails the test if it does not end.
  int FinishCompaction() {
    int commits = 0;
    while (storage_->Compacting() && commits < 1000) {
      storage_->CloseOneDeletedSegment();  // as the server does after each turn
      EXPECT_OK(storage_->Commit());
      ++commits;
    }
    EXPECT_FALSE(storage_->Compacting())
        << "the compaction did not end in " << commits << " commits";
    return commits;
  }

  std::filesystem::path LogDir() const { return dir_ / "log"; }
  std::vector<std::string> SegmentFiles() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(LogDir())) {
      if (e.path().extension() == ".seg") names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  std::filesystem::path LastSegment() const { return LogDir() / SegmentFiles().back(); }
  uint64_t DiskBytes() const {
    uint64_t total = 0;
    for (const std::string& name : SegmentFiles())
      total += std::filesystem::file_size(LogDir() / name);
    return total;
  }

  // Receives every message there is, `visibility_s` each.
  std::vector<pb::Message> ReceiveAll(const std::string& queue, int visibility_s = 30) {
    std::vector<pb::Message> all;
    for (;;) {
      std::vector<pb::Message> got = Receive(queue, 10, visibility_s);
      if (got.empty()) return all;
      all.insert(all.end(), got.begin(), got.end());
    }
  }
  std::multiset<std::string> ReceiveAllBodies(const std::string& queue, int visibility_s = 30) {
    std::multiset<std::string> bodies;
    for (const pb::Message& m : ReceiveAll(queue, visibility_s)) bodies.insert(m.body());
    return bodies;
  }

  // Sends `count` messages of `size` bytes to `queue`, a commit after each
  // (a turn each, as clients would); then in one turn, not committed,
  // receives them all and deletes all but every `keep_every`th, which are
  // made visible again. Returns the bodies kept.
  std::multiset<std::string> FillAndDeleteMost(const std::string& queue, int count, int keep_every,
                                               size_t size = 64 << 10) {
    Fill(queue, count, size);
    EXPECT_FALSE(storage_->Compacting()) << "a log of live messages only was compacted";
    const std::multiset<std::string> kept = DeleteMost(queue, keep_every);
    EXPECT_EQ(kept.size(), static_cast<size_t>((count + keep_every - 1) / keep_every));
    return kept;
  }
  // The first half of FillAndDeleteMost: sends, a commit after each. Returns
  // the bodies sent.
  std::multiset<std::string> Fill(const std::string& queue, int count, size_t size = 64 << 10) {
    std::multiset<std::string> bodies;
    for (int i = 0; i < count; ++i) {
      bodies.insert(Body(queue, i, size));
      Send(queue, Body(queue, i, size));
      EXPECT_OK(storage_->Commit());
    }
    return bodies;
  }
  // The second half: the turn that deletes all but every `keep_every`th.
  std::multiset<std::string> DeleteMost(const std::string& queue, int keep_every) {
    std::multiset<std::string> kept;
    for (const pb::Message& m : ReceiveAll(queue, 60)) {
      const int i = std::stoi(m.body().substr(queue.size() + 1));
      if (i % keep_every == 0) {
        kept.insert(m.body());
        EXPECT_OK(ChangeVisibility(queue, m.receipt_handle(), 0));
      } else {
        EXPECT_OK(DeleteMessage(queue, m.receipt_handle()));
      }
    }
    return kept;
  }

  std::vector<std::string> QueueNames() {
    pb::ListQueuesRequest req;
    pb::ListQueuesResponse resp;
    EXPECT_OK(engine().ListQueues(req, &resp));
    return {resp.queue_names().begin(), resp.queue_names().end()};
  }

  Status StartMoveTask(const std::string& source, int rate = 0, std::string* handle = nullptr) {
    pb::StartMessageMoveTaskRequest req;
    req.set_source_arn(ArnFormat{}.Of(source));
    req.set_max_number_of_messages_per_second(rate);
    pb::StartMessageMoveTaskResponse resp;
    Status s = engine().StartMessageMoveTask(req, &resp);
    if (handle != nullptr) *handle = resp.task_handle();
    return s;
  }
  Status CancelMoveTask(const std::string& handle) {
    pb::CancelMessageMoveTaskRequest req;
    req.set_task_handle(handle);
    pb::CancelMessageMoveTaskResponse resp;
    return engine().CancelMessageMoveTask(req, &resp);
  }
  std::vector<pb::MessageMoveTask> MoveTasksOf(const std::string& source) {
    pb::ListMessageMoveTasksRequest req;
    req.set_source_arn(ArnFormat{}.Of(source));
    req.set_max_results(10);
    pb::ListMessageMoveTasksResponse resp;
    EXPECT_OK(engine().ListMessageMoveTasks(req, &resp));
    return {resp.results().begin(), resp.results().end()};
  }
  // `n` messages in "dlq", each dead-lettered from "src" after one receive.
  void DeadLetterInto(int n) {
    ASSERT_OK(CreateQueue("dlq"));
    ASSERT_OK(CreateQueue("src", {{"RedrivePolicy", RedrivePolicyJson("dlq", 1)}}));
    for (int i = 0; i < n; ++i) Send("src", Body("r", i));
    // Bounded, so that dead-lettering that fails shows in the count below.
    for (int i = 0; i <= n && !Receive("src", 10, 0).empty(); ++i) {
    }
    ASSERT_EQ(Visible("dlq"), n);
  }

  std::filesystem::path dir_;
  // No slack: compactions copy as soon as a run's garbage outweighs its live
  // messages, so that logs of a few MB exercise the copying (the default's
  // slack is checked by CompactionOfAQueueConsumedInOrderCopiesNothing).
  StorageOptions options_{.fsync = FsyncMode::kNever, .reserve_bytes = 0, .copy_slack_bytes = 0};
  std::unique_ptr<Storage> storage_;
  uint64_t opens_ = 0;
};

}  // namespace sluice::testing

#endif  // SLUICE_TESTS_UNIT_BROKER_STORAGE_STORAGE_TEST_UTIL_H_
