// SegmentLog, the broker's write-ahead log: what is appended and written comes
// back on Replay, reads of pending and written payloads, torn tails, corruption
// reports, rotation and deletion of segments, writes that fail part-way, and
// a full disk or short writes played by a fake of the log's file calls. Also
// the CRC-32C it relies on.
//
// Each test works in a directory of its own under the system's temporary
// directory, removed at the end.
#include "broker/storage/segment_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "broker/storage/crc32c.h"
#include "common/status.h"
#include "tests/unit/broker/storage/storage_test_util.h"

// --- fsync recorder -------------------------------------------------------------
//
// The test binary's own fsync and fdatasync take the place of the C library's
// (calls from the statically linked log resolve to them). They do what the
// real ones do and, while a test asks, note which file each one synced, so
// the order "sync the old segment, then start the new one" can be checked.
namespace {

std::mutex g_sync_mu;
bool g_record_syncs = false;        // guarded by g_sync_mu
std::vector<std::string> g_synced;  // guarded by g_sync_mu: paths, in call order

void NoteSync(int fd) {
  std::lock_guard lock(g_sync_mu);
  if (!g_record_syncs) return;
  char path[PATH_MAX];
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(link.c_str(), path, sizeof path - 1);
  g_synced.push_back(n < 0 ? "?" : std::string(path, static_cast<size_t>(n)));
}

}  // namespace

extern "C" int fsync(int fd) {
  NoteSync(fd);
  return static_cast<int>(::syscall(SYS_fsync, fd));
}

extern "C" int fdatasync(int fd) {
  NoteSync(fd);
  return static_cast<int>(::syscall(SYS_fdatasync, fd));
}

// The same for ftruncate: while a test asks, each call's file size before it
// and the length asked for are noted, so a test can see that a failed write
// had left part of its batch in the file, and that it was cut off.
namespace {

struct Truncation {
  uint64_t size_before;
  uint64_t length;
  bool operator==(const Truncation&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Truncation& t) {
  return os << "{from " << t.size_before << " to " << t.length << " bytes}";
}

std::mutex g_truncate_mu;
bool g_record_truncations = false;      // guarded by g_truncate_mu
std::vector<Truncation> g_truncations;  // guarded by g_truncate_mu

void NoteTruncate(int fd, off_t length) {
  std::lock_guard lock(g_truncate_mu);
  if (!g_record_truncations) return;
  struct stat st;
  const uint64_t size = ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : UINT64_MAX;
  g_truncations.push_back({size, static_cast<uint64_t>(length)});
}

}  // namespace

extern "C" int ftruncate(int fd, off_t length) noexcept {
  NoteTruncate(fd, length);
  return static_cast<int>(::syscall(SYS_ftruncate, fd, length));
}

namespace sluice {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::WriteFile;

// Records the files synced while it lives.
class SyncRecorder {
 public:
  SyncRecorder() {
    std::lock_guard lock(g_sync_mu);
    g_synced.clear();
    g_record_syncs = true;
  }
  ~SyncRecorder() {
    std::lock_guard lock(g_sync_mu);
    g_record_syncs = false;
  }
  std::vector<std::string> synced() const {
    std::lock_guard lock(g_sync_mu);
    return g_synced;
  }
};

// Notes the ftruncate calls made while it lives.
class TruncateRecorder {
 public:
  TruncateRecorder() {
    std::lock_guard lock(g_truncate_mu);
    g_truncations.clear();
    g_record_truncations = true;
  }
  ~TruncateRecorder() {
    std::lock_guard lock(g_truncate_mu);
    g_record_truncations = false;
  }
  std::vector<Truncation> truncations() const {
    std::lock_guard lock(g_truncate_mu);
    return g_truncations;
  }
};

// A record as Replay gave it, with its payload copied out.
struct Rec {
  uint32_t type;
  std::string payload;
  LogPosition position;

  bool operator==(const Rec&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Rec& r) {
  return os << "{type " << r.type << ", " << r.payload.size() << " bytes \""
            << r.payload.substr(0, 20) << "\", segment " << SegmentOf(r.position) << " offset "
            << (r.position & 0xffffffffu) << "}";
}

void AppendToFile(const fs::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

void FlipByte(const fs::path& path, uint64_t offset) {
  std::string data = ReadFile(path);
  ASSERT_LT(offset, data.size());
  data[offset] = static_cast<char>(data[offset] ^ 0x5a);
  WriteFile(path, data);
}

std::string SegmentName(uint32_t number) {
  char name[32];
  std::snprintf(name, sizeof name, "%010u.seg", number);
  return name;
}

// The segment files of a log directory, by name, oldest first.
std::vector<std::string> SegmentFiles(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".seg") names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Where `path` first comes in `synced`, or -1.
long IndexOf(const std::vector<std::string>& synced, const std::string& path) {
  auto it = std::find(synced.begin(), synced.end(), path);
  return it == synced.end() ? -1 : static_cast<long>(it - synced.begin());
}

std::string Joined(const std::vector<std::string>& paths) {
  std::string out;
  for (const std::string& p : paths) out += (out.empty() ? "" : ", ") + p;
  return "[" + out + "]";
}

class SegmentLogTest : public ::testing::Test {
 protected:
  SegmentLogTest() {
    std::string pattern = (fs::temp_directory_path() / "sluice-segment-log-XXXXXX").string();
    const char* made = ::mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr) << "mkdtemp failed";
    root_ = pattern;
    dir_ = root_ / "log";
  }
  ~SegmentLogTest() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  fs::path Segment(uint32_t number) const { return dir_ / SegmentName(number); }

  // Opens the log in `dir` and replays it into `records`; the status of
  // Replay (or of Open, when that fails).
  static Status OpenAndReplay(const fs::path& dir, std::unique_ptr<SegmentLog>* log,
                              std::vector<Rec>* records, FileOps* files = FileOps::System()) {
    auto opened = SegmentLog::Open(dir.string(), files);
    if (!opened.ok()) return opened.status();
    *log = std::move(*opened);
    records->clear();
    return (*log)->Replay([records](const LogRecord& r) {
      records->push_back({r.type, std::string(r.payload), r.position});
      return Status::Ok();
    });
  }

  // Opens and replays dir_, expecting success; the records replayed.
  std::vector<Rec> Reopen() {
    log_.reset();
    std::vector<Rec> records;
    Status s = OpenAndReplay(dir_, &log_, &records, files_);
    EXPECT_TRUE(s.ok()) << s.detail();
    return records;
  }

  // Appends a record and remembers it as expected back from Replay.
  LogPosition Add(uint32_t type, std::initializer_list<std::string_view> parts) {
    const LogPosition at = log_->Append(type, parts);
    std::string payload;
    for (std::string_view p : parts) payload.append(p);
    expected_.push_back({type, payload, at});
    return at;
  }

  // Writes the pending batch, expecting success.
  void WriteBatch() {
    Status s = log_->Write();
    EXPECT_TRUE(s.ok()) << s.detail();
  }

  // A log in dir_ with three batches of two records each in segment 1,
  // each synced (as --fsync always does) unless `synced` is false; closed.
  // Sets batch_starts_ and expected_.
  void WriteThreeBatches(bool synced = true) {
    Reopen();
    for (int b = 0; b < 3; ++b) {
      const uint64_t start = log_->bytes();
      Add(10 + b, {"batch " + std::to_string(b) + " first"});
      Add(20 + b, {"batch ", std::to_string(b), " second, in three parts"});
      batch_starts_.push_back(start);
      ASSERT_TRUE(log_->Write().ok());
      if (synced) {
        ASSERT_TRUE(log_->Sync().ok());
      }
    }
    batch_starts_.push_back(log_->bytes());  // the end of the last batch
    log_.reset();
  }

  fs::path root_;
  fs::path dir_;
  FileOps* files_ = FileOps::System();  // a test's FakeDisk plays a full disk
  std::unique_ptr<SegmentLog> log_;
  std::vector<Rec> expected_;
  std::vector<uint64_t> batch_starts_;
};

// --- CRC-32C ----------------------------------------------------------------------

// The bitwise definition (reflected polynomial 0x82F63B78), for comparison.
uint32_t ReferenceCrc32c(const std::string& data) {
  uint32_t crc = 0xffffffffu;
  for (unsigned char c : data) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
  }
  return ~crc;
}

TEST(Crc32cTest, MatchesTheStandardCheckValue) {
  const std::string check = "123456789";
  EXPECT_EQ(Crc32c(check.data(), check.size()), 0xe3069283u);
  EXPECT_EQ(Crc32c("", 0), 0u);
}

TEST(Crc32cTest, MatchesTheBitwiseDefinitionAtEveryLengthAndAlignment) {
  std::string data;
  for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>(i * 131 + 7));
  for (size_t start = 0; start < 9; ++start) {
    for (size_t len = 0; start + len <= data.size(); len += (len < 40 ? 1 : 37)) {
      const std::string part = data.substr(start, len);
      ASSERT_EQ(Crc32c(part.data(), part.size()), ReferenceCrc32c(part))
          << "start " << start << " length " << len;
    }
  }
}

TEST(Crc32cTest, ContinuesFromAnEarlierChecksum) {
  const std::string a = "the quick brown fox ";
  const std::string b = "jumps over the lazy dog";
  const std::string ab = a + b;
  EXPECT_EQ(Crc32c(b.data(), b.size(), Crc32c(a.data(), a.size())), Crc32c(ab.data(), ab.size()));
}

// --- Open and Replay ----------------------------------------------------------------

TEST_F(SegmentLogTest, OpenCreatesTheDirectoryAndReplayStartsSegmentOne) {
  ASSERT_FALSE(fs::exists(dir_));
  std::vector<Rec> records = Reopen();
  EXPECT_TRUE(records.empty());
  EXPECT_TRUE(fs::is_directory(dir_));
  EXPECT_EQ(SegmentFiles(dir_), std::vector<std::string>{SegmentName(1)});
  EXPECT_TRUE(log_->HasSegment(1));
  EXPECT_EQ(log_->bytes(), 0u);
}

// Disk blocks a file holds (st_blocks), whatever its size says.
uint64_t AllocatedBytes(const fs::path& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_blocks) * 512 : 0;
}

TEST_F(SegmentLogTest, SegmentsAreReservedAheadAndGiveBackWhatTheyDidNotUse) {
  Reopen();
  const fs::path spare = dir_ / "spare";
  if (AllocatedBytes(Segment(1)) < SegmentLog::kSegmentBytes) {
    GTEST_SKIP() << "the filesystem under " << dir_ << " does not reserve blocks (fallocate)";
  }
  // The segment appended to and the spare are reserved whole, and both
  // are still empty.
  EXPECT_EQ(fs::file_size(Segment(1)), 0u);
  ASSERT_TRUE(fs::exists(spare));
  EXPECT_EQ(fs::file_size(spare), 0u);
  EXPECT_GE(AllocatedBytes(spare), SegmentLog::kSegmentBytes);

  Add(1, {std::string(100'000, 'a')});
  WriteBatch();
  // An ended segment keeps only what it holds; the spare becomes the next
  // segment and a new spare is reserved.
  ASSERT_TRUE(log_->Rotate().ok());
  EXPECT_LT(AllocatedBytes(Segment(1)), 1u << 20);
  EXPECT_GE(AllocatedBytes(Segment(2)), SegmentLog::kSegmentBytes);
  EXPECT_GE(AllocatedBytes(spare), SegmentLog::kSegmentBytes);

  // A restart gives back the unused blocks of the segment it stops
  // appending to, and starts the next from the spare.
  Add(2, {std::string(100'000, 'b')});
  WriteBatch();
  EXPECT_EQ(Reopen(), expected_);
  EXPECT_LT(AllocatedBytes(Segment(2)), 1u << 20);
  EXPECT_GE(AllocatedBytes(Segment(3)), SegmentLog::kSegmentBytes);
  EXPECT_EQ(fs::file_size(Segment(3)), 0u);
  EXPECT_GE(AllocatedBytes(spare), SegmentLog::kSegmentBytes);
  EXPECT_EQ(SegmentFiles(dir_),
            (std::vector<std::string>{SegmentName(1), SegmentName(2), SegmentName(3)}));
}

TEST_F(SegmentLogTest, WritesAcrossTheSegmentEndSucceedOnAFullDisk) {
  // A tmpfs just big enough for two reserved segments, mounted over the
  // test's directory, then filled to the last block by another file.
  const uint64_t size = 2 * SegmentLog::kReservedBytes + (4 << 20);
  if (::mount("tmpfs", root_.c_str(), "tmpfs", 0, ("size=" + std::to_string(size)).c_str()) != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  }
  struct Unmount {
    const fs::path& at;
    ~Unmount() { ::umount2(at.c_str(), MNT_DETACH); }
  } unmount{root_};
  Reopen();
  {
    const int fd = ::open((root_ / "filler").c_str(), O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(fd, 0);
    const std::string block(4096, 'f');
    while (::write(fd, block.data(), block.size()) > 0) {
    }
    ::close(fd);
  }
  struct statvfs st;
  ASSERT_EQ(::statvfs(root_.c_str(), &st), 0);
  ASSERT_LT(st.f_bavail * st.f_frsize, 4096u) << "the filesystem is not full";

  // 1 MiB batches past the end of segment 1 (the last one runs over 64 MiB)
  // and on into segment 2, the spare.
  const std::string payload(1 << 20, 'p');
  while (!log_->HasSegment(2) || log_->bytes() < SegmentLog::kSegmentBytes + (4 << 20)) {
    Add(1, {payload});
    Status s = log_->Write();
    ASSERT_TRUE(s.ok()) << "at " << log_->bytes() << " bytes: " << s.detail();
  }
  EXPECT_EQ(Reopen(), expected_);
  log_.reset();
}

TEST_F(SegmentLogTest, AppendedAndWrittenRecordsReplayInOrderWithTypesPayloadsAndPositions) {
  Reopen();
  Add(1, {"one"});
  Add(2, {"two-a", "", "two-b"});
  WriteBatch();
  Add(3, {std::string(1000, 'x')});
  WriteBatch();
  Add(4, {""});  // an empty payload is a record too
  Add(5, {std::string("\0\1\2binary\xff", 10)});
  Add(1, {"last"});
  WriteBatch();
  log_.reset();

  std::vector<Rec> records = Reopen();
  EXPECT_EQ(records, expected_);
  // Positions are in segment 1 and grow with the records.
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(SegmentOf(records[i].position), 1u);
    if (i > 0) {
      EXPECT_GT(records[i].position, records[i - 1].position);
    }
  }
  // A second replay of the same files gives the same records again (the
  // segment started by the first one is empty).
  EXPECT_EQ(Reopen(), expected_);
}

TEST_F(SegmentLogTest, BatchAndRecordLayoutIsAsDocumented) {
  Reopen();
  const LogPosition a = Add(7, {"abc"});
  const LogPosition b = Add(8, {"defgh"});
  // Header, then each record's 8-byte header and payload.
  EXPECT_EQ(a, (uint64_t{1} << 32) | (SegmentLog::kBatchHeaderBytes + 8));
  EXPECT_EQ(b, (uint64_t{1} << 32) | (SegmentLog::kBatchHeaderBytes + 8 + 3 + 8));
  EXPECT_EQ(log_->bytes(), SegmentLog::kBatchHeaderBytes + 8 + 3 + 8 + 5);
  ASSERT_TRUE(log_->Write().ok());
  const size_t first = SegmentLog::kBatchHeaderBytes + 8 + 3 + 8 + 5;
  // A second batch, after a sync of the first.
  ASSERT_TRUE(log_->Sync().ok());
  Add(9, {"i"});
  ASSERT_TRUE(log_->Write().ok());
  const std::string file = ReadFile(Segment(1));
  ASSERT_EQ(file.size(), first + SegmentLog::kBatchHeaderBytes + 8 + 1);
  uint32_t header[5];
  std::memcpy(header, file.data(), sizeof header);
  EXPECT_EQ(header[0], Crc32c(file.data() + 4, 16));
  EXPECT_EQ(header[1], first - SegmentLog::kBatchHeaderBytes);
  EXPECT_EQ(header[2], 2u);
  EXPECT_EQ(header[3], Crc32c(file.data() + 20, first - 20));
  EXPECT_EQ(header[4], 0u);  // nothing of the segment was synced yet
  EXPECT_EQ(file.substr(20 + 8, 3), "abc");
  EXPECT_EQ(file.substr(20 + 8 + 3 + 8, 5), "defgh");
  std::memcpy(header, file.data() + first, sizeof header);
  EXPECT_EQ(header[0], Crc32c(file.data() + first + 4, 16));
  EXPECT_EQ(header[2], 1u);
  EXPECT_EQ(header[4], first);  // the first batch was synced
}

TEST_F(SegmentLogTest, ReplayOfAnOlderLogKeepsTheSegmentsAndAppendsToANewOne) {
  Reopen();
  Add(1, {"first run"});
  WriteBatch();
  log_.reset();
  Reopen();
  EXPECT_EQ(SegmentFiles(dir_), (std::vector<std::string>{SegmentName(1), SegmentName(2)}));
  EXPECT_EQ(SegmentOf(Add(2, {"second run"})), 2u);
  WriteBatch();
  log_.reset();
  EXPECT_EQ(Reopen(), expected_);
  EXPECT_EQ(log_->bytes(), fs::file_size(Segment(1)) + fs::file_size(Segment(2)));
}

TEST_F(SegmentLogTest, ReplayStopsWhenTheVisitorFailsAndNamesTheRecord) {
  WriteThreeBatches();
  auto opened = SegmentLog::Open(dir_.string());
  ASSERT_TRUE(opened.ok());
  int seen = 0;
  Status s = (*opened)->Replay([&](const LogRecord&) {
    return ++seen == 3 ? Status(StatusCode::kInternalError, "bad record") : Status::Ok();
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(seen, 3);
  // The third record is the first of the second batch, after its header.
  EXPECT_EQ(s.detail(), Segment(1).string() + " at offset " +
                            std::to_string(batch_starts_[1] + SegmentLog::kBatchHeaderBytes) +
                            ": bad record");
}

// --- Reads ------------------------------------------------------------------------

TEST_F(SegmentLogTest, ReadGivesThePayloadWhilePendingAfterWriteAndAfterReopen) {
  Reopen();
  const std::string big(70'000, 'b');
  const LogPosition p1 = Add(1, {"alpha"});
  const LogPosition p2 = Add(2, {"be", "ta"});
  std::string out;
  ASSERT_TRUE(log_->Read(p1, 5, &out).ok());
  EXPECT_EQ(out, "alpha");
  ASSERT_TRUE(log_->Read(p2, 4, &out).ok());
  EXPECT_EQ(out, "beta");
  ASSERT_TRUE(log_->Read(p2 + 1, 2, &out).ok());  // part of a payload
  EXPECT_EQ(out, "et");
  WriteBatch();
  // A second batch is pending while the first is on file: both readable.
  const LogPosition p3 = Add(3, {big});
  ASSERT_TRUE(log_->Read(p1, 5, &out).ok());
  EXPECT_EQ(out, "alpha");
  ASSERT_TRUE(log_->Read(p3, static_cast<uint32_t>(big.size()), &out).ok());
  EXPECT_EQ(out, big);
  WriteBatch();
  ASSERT_TRUE(log_->Read(p3, static_cast<uint32_t>(big.size()), &out).ok());
  EXPECT_EQ(out, big);
  ASSERT_TRUE(log_->Read(p2, 4, &out).ok());
  EXPECT_EQ(out, "beta");

  log_.reset();
  Reopen();
  ASSERT_TRUE(log_->Read(p1, 5, &out).ok());
  EXPECT_EQ(out, "alpha");
  ASSERT_TRUE(log_->Read(p3, static_cast<uint32_t>(big.size()), &out).ok());
  EXPECT_EQ(out, big);
}

TEST_F(SegmentLogTest, ReadOfASpanFromWrittenIntoPendingBytesJoinsThem) {
  Reopen();
  const LogPosition p1 = Add(1, {"alpha"});
  WriteBatch();
  const LogPosition p2 = Add(2, {"omega"});
  ASSERT_GT(p2, p1 + 5);
  std::string out;
  ASSERT_TRUE(log_->Read(p1, static_cast<uint32_t>(p2 + 5 - p1), &out).ok());
  ASSERT_EQ(out.size(), p2 + 5 - p1);
  EXPECT_EQ(out.substr(0, 5), "alpha");
  EXPECT_EQ(out.substr(out.size() - 5), "omega");
  // Past what is pending there is nothing to read.
  EXPECT_FALSE(log_->Read(p2, 6, &out).ok());
  EXPECT_FALSE(log_->Read(p2 + 5, 1, &out).ok());
  // Written, the same span reads the same payloads (the batch header between
  // them is filled in at the write).
  WriteBatch();
  ASSERT_TRUE(log_->Read(p1, static_cast<uint32_t>(p2 + 5 - p1), &out).ok());
  EXPECT_EQ(out.substr(0, 5), "alpha");
  EXPECT_EQ(out.substr(out.size() - 5), "omega");
}

TEST_F(SegmentLogTest, NewLogNamesItsFormatAndALogInAnotherOrNoFormatIsRefused) {
  Reopen();
  Add(1, {"kept"});
  WriteBatch();
  log_.reset();
  EXPECT_EQ(ReadFile(dir_ / "FORMAT"), "sluice-log 4\n");
  const std::string segment = ReadFile(Segment(1));

  WriteFile(dir_ / "FORMAT", "sluice-log 1\n");
  auto opened = SegmentLog::Open(dir_.string());
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().detail().find("does not read: \"sluice-log 1\\x0a\""),
            std::string::npos)
      << opened.status().detail();

  fs::remove(dir_ / "FORMAT");
  opened = SegmentLog::Open(dir_.string());
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().detail().find("no FORMAT file"), std::string::npos)
      << opened.status().detail();
  // Refused, not repaired: the segment is as it was, and no FORMAT appeared.
  EXPECT_EQ(ReadFile(Segment(1)), segment);
  EXPECT_FALSE(fs::exists(dir_ / "FORMAT"));
}

TEST_F(SegmentLogTest, ReadOfAMissingSegmentOrPastTheEndFails) {
  Reopen();
  const LogPosition p = Add(1, {"x"});
  WriteBatch();
  ASSERT_TRUE(log_->Rotate().ok());
  std::string out;
  EXPECT_FALSE(log_->Read((uint64_t{99} << 32) | 24, 1, &out).ok());
  // Segment 1 is no longer the active one: a read past its end fails.
  EXPECT_FALSE(log_->Read(p, 1000, &out).ok());
  EXPECT_TRUE(log_->Read(p, 1, &out).ok());
}

// --- Write, bytes -----------------------------------------------------------------

TEST_F(SegmentLogTest, WriteWithNothingPendingWritesNothing) {
  Reopen();
  EXPECT_FALSE(log_->HasPending());
  ASSERT_TRUE(log_->Write().ok());
  EXPECT_EQ(fs::file_size(Segment(1)), 0u);
  EXPECT_EQ(log_->bytes(), 0u);
}

TEST_F(SegmentLogTest, BytesCountsPendingAndWrittenRecords) {
  Reopen();
  Add(1, {"12345"});
  EXPECT_TRUE(log_->HasPending());
  EXPECT_EQ(log_->bytes(), SegmentLog::kBatchHeaderBytes + SegmentLog::kRecordHeaderBytes + 5);
  EXPECT_EQ(fs::file_size(Segment(1)), 0u);  // nothing written before Write
  ASSERT_TRUE(log_->Write().ok());
  EXPECT_FALSE(log_->HasPending());
  EXPECT_EQ(log_->bytes(), fs::file_size(Segment(1)));
  EXPECT_EQ(log_->bytes(), SegmentLog::kBatchHeaderBytes + SegmentLog::kRecordHeaderBytes + 5);
  ASSERT_TRUE(log_->Sync().ok());
  EXPECT_EQ(log_->bytes(), fs::file_size(Segment(1)));
}

// --- Torn tails -------------------------------------------------------------------

TEST_F(SegmentLogTest, TornLastBatchIsDroppedWholeAtEveryLength) {
  WriteThreeBatches();
  const std::string whole = ReadFile(Segment(1));
  const uint64_t last = batch_starts_[2];
  ASSERT_EQ(whole.size(), batch_starts_[3]);
  const std::vector<Rec> kept(expected_.begin(), expected_.begin() + 4);

  for (uint64_t cut = last + 1; cut < whole.size(); ++cut) {
    SCOPED_TRACE("segment cut to " + std::to_string(cut) + " bytes");
    const fs::path dir = root_ / ("cut-" + std::to_string(cut));
    fs::create_directories(dir);
    fs::copy_file(dir_ / "FORMAT", dir / "FORMAT");
    WriteFile(dir / SegmentName(1), whole.substr(0, cut));

    testing::LogCapture logs;
    std::unique_ptr<SegmentLog> log;
    std::vector<Rec> records;
    Status s = OpenAndReplay(dir, &log, &records);
    ASSERT_TRUE(s.ok()) << s.detail();
    EXPECT_EQ(records, kept);
    // Reported, with the file and where the torn batch started.
    std::vector<std::string> warnings = logs.Find("event=torn_tail_dropped");
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("file=" + (dir / SegmentName(1)).string()), std::string::npos)
        << warnings[0];
    EXPECT_NE(warnings[0].find("offset=" + std::to_string(last)), std::string::npos) << warnings[0];
    EXPECT_NE(warnings[0].find("bytes=" + std::to_string(cut - last)), std::string::npos)
        << warnings[0];
    // Cut off on disk too, and bytes() counts what is kept.
    EXPECT_EQ(fs::file_size(dir / SegmentName(1)), last);
    EXPECT_EQ(log->bytes(), last);
    // The log goes on in a new segment, and a later replay is clean.
    log->Append(99, {"after the tear"});
    ASSERT_TRUE(log->Write().ok());
    log.reset();
    testing::LogCapture logs2;
    s = OpenAndReplay(dir, &log, &records);
    ASSERT_TRUE(s.ok()) << s.detail();
    ASSERT_EQ(records.size(), kept.size() + 1);
    EXPECT_EQ(records.back().payload, "after the tear");
    EXPECT_EQ(SegmentOf(records.back().position), 2u);
    EXPECT_TRUE(logs2.Find("event=torn_tail_dropped").empty());
    log.reset();
    fs::remove_all(dir);
  }
}

TEST_F(SegmentLogTest, LogCutExactlyAtABatchBoundaryIsNotReportedAsTorn) {
  WriteThreeBatches();
  fs::resize_file(Segment(1), batch_starts_[2]);
  testing::LogCapture logs;
  std::vector<Rec> records = Reopen();
  EXPECT_EQ(records, std::vector<Rec>(expected_.begin(), expected_.begin() + 4));
  EXPECT_TRUE(logs.Find("torn_tail_dropped").empty());
}

TEST_F(SegmentLogTest, GarbageAfterTheLastBatchIsDropped) {
  WriteThreeBatches();
  const uint64_t end = batch_starts_[3];
  std::string garbage;
  for (int i = 0; i < 500; ++i) garbage.push_back(static_cast<char>(i * 37 + 11));
  AppendToFile(Segment(1), garbage);
  testing::LogCapture logs;
  EXPECT_EQ(Reopen(), expected_);
  EXPECT_EQ(logs.Find("event=torn_tail_dropped").size(), 1u);
  EXPECT_EQ(fs::file_size(Segment(1)), end);
}

TEST_F(SegmentLogTest, ZerosAfterTheLastBatchAreDropped) {
  // What a file system may leave after a crash: the size grew, the data did not land.
  WriteThreeBatches();
  const uint64_t end = batch_starts_[3];
  AppendToFile(Segment(1), std::string(4096, '\0'));
  testing::LogCapture logs;
  EXPECT_EQ(Reopen(), expected_);
  EXPECT_EQ(logs.Find("event=torn_tail_dropped").size(), 1u);
  EXPECT_EQ(fs::file_size(Segment(1)), end);
}

TEST_F(SegmentLogTest, DamagedLastBatchIsDroppedAsTorn) {
  // A torn write may have the full length but not the right bytes.
  WriteThreeBatches();
  FlipByte(Segment(1), batch_starts_[3] - 3);
  testing::LogCapture logs;
  EXPECT_EQ(Reopen(), std::vector<Rec>(expected_.begin(), expected_.begin() + 4));
  EXPECT_EQ(logs.Find("event=torn_tail_dropped").size(), 1u);
  EXPECT_EQ(fs::file_size(Segment(1)), batch_starts_[2]);
}

// A client's binary message attribute is stored as it is, so a record's
// payload can hold bytes that form a whole, valid batch. If the write of such
// a record is torn after those bytes, it is still a torn last write: nothing
// after the damaged batch's start was ever a batch of the log.
TEST_F(SegmentLogTest, TornLastBatchIsDroppedEvenIfItsPayloadHoldsAValidBatch) {
  // The bytes of a valid batch, made by a log of its own.
  std::string inner;
  {
    const fs::path other = root_ / "other";
    std::unique_ptr<SegmentLog> log;
    std::vector<Rec> records;
    ASSERT_TRUE(OpenAndReplay(other, &log, &records).ok());
    log->Append(4, {"a batch inside a payload"});
    ASSERT_TRUE(log->Write().ok());
    inner = ReadFile(other / SegmentName(1));
  }
  Reopen();
  Add(1, {"kept"});
  WriteBatch();
  const uint64_t torn_start = log_->bytes();
  Add(4, {"attribute:", inner, std::string(2000, 'z')});
  ASSERT_TRUE(log_->Write().ok());
  log_.reset();
  const std::string whole = ReadFile(Segment(1));
  const size_t inner_at = whole.find(inner, torn_start + 1);
  ASSERT_NE(inner_at, std::string::npos);
  fs::resize_file(Segment(1), inner_at + inner.size() + 100);  // torn inside the 'z's

  std::unique_ptr<SegmentLog> log;
  std::vector<Rec> records;
  testing::LogCapture logs;
  Status s = OpenAndReplay(dir_, &log, &records);
  ASSERT_TRUE(s.ok()) << "a torn last write fails recovery: " << s.detail();
  EXPECT_EQ(records, std::vector<Rec>(expected_.begin(), expected_.begin() + 1));
  EXPECT_EQ(fs::file_size(Segment(1)), torn_start);
}

// --- Corruption ---------------------------------------------------------------------

TEST_F(SegmentLogTest, FlippedByteInANonLastBatchFailsReplayNamingFileAndOffset) {
  WriteThreeBatches();
  const std::string path = Segment(1).string();
  // Every byte of the first two batches, header and records alike.
  for (uint64_t at = 0; at < batch_starts_[2]; ++at) {
    SCOPED_TRACE("byte " + std::to_string(at) + " flipped");
    const uint64_t batch = at < batch_starts_[1] ? batch_starts_[0] : batch_starts_[1];
    ASSERT_NO_FATAL_FAILURE(FlipByte(Segment(1), at));
    std::unique_ptr<SegmentLog> log;
    std::vector<Rec> records;
    Status s = OpenAndReplay(dir_, &log, &records);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), StatusCode::kCorruption);
    const std::string prefix = "Corruption: " + path + " at offset " + std::to_string(batch) + ":";
    EXPECT_EQ(s.ToString().substr(0, prefix.size()), prefix) << s.ToString();
    log.reset();
    // Nothing was cut off or started.
    ASSERT_EQ(fs::file_size(Segment(1)), batch_starts_[3]);
    ASSERT_EQ(SegmentFiles(dir_), std::vector<std::string>{SegmentName(1)});
    ASSERT_NO_FATAL_FAILURE(FlipByte(Segment(1), at));
  }
  EXPECT_EQ(Reopen(), expected_);
}

TEST_F(SegmentLogTest, DamageFollowedOnlyByBatchesWrittenBeforeItWasSyncedIsATornTail) {
  // No sync: a crash of the machine may leave such writes on disk in any
  // order, a damaged one before whole ones. None of them was acknowledged
  // under --fsync always.
  for (int damaged : {0, 1}) {
    SCOPED_TRACE("batch " + std::to_string(damaged) + " damaged");
    fs::remove_all(dir_);
    expected_.clear();
    batch_starts_.clear();
    ASSERT_NO_FATAL_FAILURE(WriteThreeBatches(/*synced=*/false));
    ASSERT_NO_FATAL_FAILURE(FlipByte(Segment(1), batch_starts_[damaged] + 25));
    std::unique_ptr<SegmentLog> log;
    std::vector<Rec> records;
    testing::LogCapture logs;
    Status s = OpenAndReplay(dir_, &log, &records);
    ASSERT_TRUE(s.ok()) << s.detail();
    EXPECT_EQ(records, std::vector<Rec>(expected_.begin(), expected_.begin() + 2 * damaged));
    EXPECT_EQ(logs.Find("event=torn_tail_dropped").size(), 1u);
    log.reset();
    EXPECT_EQ(fs::file_size(Segment(1)), batch_starts_[damaged]);  // cut there
  }
}

TEST_F(SegmentLogTest, DamageFollowedByABatchWrittenAfterItWasSyncedIsCorruption) {
  // With a torn batch after that one too: it does not hide the corruption.
  for (bool torn_tail : {false, true}) {
    SCOPED_TRACE(torn_tail ? "with a torn tail" : "without a torn tail");
    fs::remove_all(dir_);
    Reopen();
    Add(1, {"synced"});
    WriteBatch();
    ASSERT_TRUE(log_->Sync().ok());
    Add(2, {"written after the sync"});
    WriteBatch();
    const uint64_t last_start = log_->bytes();
    if (torn_tail) {
      Add(3, {"torn by the crash"});
      WriteBatch();
    }
    log_.reset();
    ASSERT_NO_FATAL_FAILURE(FlipByte(Segment(1), SegmentLog::kBatchHeaderBytes + 9));
    if (torn_tail) {
      ASSERT_NO_FATAL_FAILURE(FlipByte(Segment(1), last_start + SegmentLog::kBatchHeaderBytes + 9));
    }
    std::unique_ptr<SegmentLog> log;
    std::vector<Rec> records;
    Status s = OpenAndReplay(dir_, &log, &records);
    ASSERT_FALSE(s.ok()) << "the synced batch was dropped as a torn tail";
    const std::string prefix = "Corruption: " + Segment(1).string() + " at offset 0:";
    EXPECT_EQ(s.ToString().substr(0, prefix.size()), prefix) << s.ToString();
    EXPECT_TRUE(records.empty());
  }
}

TEST_F(SegmentLogTest, SyncMarkIsWrittenOnlyWhenTheLastSyncCoveredEverythingWritten) {
  Reopen();
  Add(1, {"synced"});
  WriteBatch();
  const uint64_t written = log_->bytes();
  ASSERT_TRUE(log_->MarkSynced().ok());
  EXPECT_EQ(log_->bytes(), written) << "a mark before any sync";
  ASSERT_TRUE(log_->Sync().ok());
  ASSERT_TRUE(log_->MarkSynced().ok());
  EXPECT_EQ(log_->bytes(), written + SegmentLog::kBatchHeaderBytes) << "no mark of the sync";
  ASSERT_TRUE(log_->MarkSynced().ok());
  EXPECT_EQ(log_->bytes(), written + SegmentLog::kBatchHeaderBytes) << "a second mark";
  // A batch written after the sync will record it: no mark.
  ASSERT_TRUE(log_->Sync().ok());
  Add(2, {"written after"});
  WriteBatch();
  const uint64_t busy = log_->bytes();
  ASSERT_TRUE(log_->MarkSynced().ok());
  EXPECT_EQ(log_->bytes(), busy);
  log_.reset();
  // Marks replay as batches of no records.
  EXPECT_EQ(Reopen(), expected_);
}

TEST_F(SegmentLogTest, DamageToASyncedBatchOfAnIdleLogIsCorruptionWithItsSyncMark) {
  for (bool marked : {true, false}) {
    SCOPED_TRACE(marked ? "sync marked" : "sync not marked");
    fs::remove_all(dir_);
    Reopen();
    Add(1, {"synced, then the log went idle"});
    WriteBatch();
    ASSERT_TRUE(log_->Sync().ok());
    if (marked) {
      ASSERT_TRUE(log_->MarkSynced().ok());
    }
    log_.reset();
    ASSERT_NO_FATAL_FAILURE(FlipByte(Segment(1), SegmentLog::kBatchHeaderBytes + 9));
    std::unique_ptr<SegmentLog> log;
    std::vector<Rec> records;
    testing::LogCapture logs;
    Status s = OpenAndReplay(dir_, &log, &records);
    if (marked) {
      ASSERT_FALSE(s.ok());
      const std::string expected = "Corruption: " + Segment(1).string() +
                                   " at offset 0: a batch fails its checksum, and batches written "
                                   "after it was synced follow it";
      EXPECT_EQ(s.ToString(), expected);
    } else {
      // Without the mark nothing tells it from a write torn by a crash.
      ASSERT_TRUE(s.ok()) << s.detail();
      EXPECT_TRUE(records.empty());
      EXPECT_EQ(logs.Find("event=torn_tail_dropped").size(), 1u);
    }
  }
}

TEST_F(SegmentLogTest, BatchWhoseRecordCountDisagreesFailsReplayBeforeApplyingIt) {
  WriteThreeBatches();
  const std::string path = Segment(1).string();
  // The second batch's header claims one record more, with both checksums
  // made right again: only the count gives it away.
  std::string data = ReadFile(Segment(1));
  char* header = data.data() + batch_starts_[1];
  uint32_t count;
  std::memcpy(&count, header + 8, 4);
  ++count;
  std::memcpy(header + 8, &count, 4);
  const uint32_t header_crc = Crc32c(header + 4, SegmentLog::kBatchHeaderBytes - 4);
  std::memcpy(header, &header_crc, 4);
  WriteFile(Segment(1), data);

  std::unique_ptr<SegmentLog> log;
  std::vector<Rec> records;
  Status s = OpenAndReplay(dir_, &log, &records);
  ASSERT_FALSE(s.ok());
  const std::string prefix =
      "Corruption: " + path + " at offset " + std::to_string(batch_starts_[1]) + ":";
  EXPECT_EQ(s.ToString().substr(0, prefix.size()), prefix) << s.ToString();
  EXPECT_NE(s.detail().find("its header says " + std::to_string(count)), std::string::npos)
      << s.detail();
  // The first batch was replayed, nothing of the second.
  const std::vector<Rec> first_batch(expected_.begin(), expected_.begin() + 2);  // two a batch
  EXPECT_EQ(records, first_batch);
}

TEST_F(SegmentLogTest, DamageInANonLastSegmentFailsReplayNamingFileAndOffset) {
  WriteThreeBatches();
  Reopen();  // segment 2 takes the next records
  Add(30, {"in segment two"});
  WriteBatch();
  log_.reset();
  const std::string path = Segment(1).string();

  // Damage in the last batch of segment 1 is not a torn write: segment 2
  // was started after it.
  for (uint64_t at : {batch_starts_[2], batch_starts_[2] + 20, batch_starts_[3] - 1}) {
    SCOPED_TRACE("byte " + std::to_string(at) + " flipped");
    ASSERT_NO_FATAL_FAILURE(FlipByte(Segment(1), at));
    std::unique_ptr<SegmentLog> log;
    std::vector<Rec> records;
    Status s = OpenAndReplay(dir_, &log, &records);
    ASSERT_FALSE(s.ok());
    const std::string prefix =
        "Corruption: " + path + " at offset " + std::to_string(batch_starts_[2]) + ":";
    EXPECT_EQ(s.ToString().substr(0, prefix.size()), prefix) << s.ToString();
    log.reset();
    ASSERT_NO_FATAL_FAILURE(FlipByte(Segment(1), at));
  }
  // So is a segment 1 cut short.
  const std::string whole = ReadFile(Segment(1));
  fs::resize_file(Segment(1), batch_starts_[3] - 5);
  {
    std::unique_ptr<SegmentLog> log;
    std::vector<Rec> records;
    Status s = OpenAndReplay(dir_, &log, &records);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(
        s.ToString().rfind(
            "Corruption: " + path + " at offset " + std::to_string(batch_starts_[2]) + ":", 0),
        0u)
        << s.ToString();
  }
  WriteFile(Segment(1), whole);
  EXPECT_EQ(Reopen(), expected_);
}

// --- Failed writes ------------------------------------------------------------------

// The fault injection the tests below rely on: under the limit, a write that
// crosses it is cut short at it and the next fails with EFBIG; once the limit
// is gone, the file grows again and SIGXFSZ is handled as before.
TEST_F(SegmentLogTest, FileSizeLimitCutsAWriteShortThenFailsWritesUntilItIsLifted) {
  const std::string path = (root_ / "scratch").string();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  const std::string data(1000, 'd');
  ASSERT_EQ(::write(fd, data.data(), 100), 100);
  rlimit limit_before;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &limit_before), 0);
  struct sigaction action_before;
  ASSERT_EQ(::sigaction(SIGXFSZ, nullptr, &action_before), 0);
  ssize_t cut_short, refused;
  int refused_errno;
  {
    testing::FileSizeLimit limit(150);
    cut_short = ::write(fd, data.data(), data.size());
    refused = ::write(fd, data.data(), data.size());
    refused_errno = errno;
  }
  EXPECT_EQ(cut_short, 50);
  EXPECT_EQ(refused, -1);
  EXPECT_EQ(refused_errno, EFBIG);
  EXPECT_EQ(fs::file_size(path), 150u);
  EXPECT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  EXPECT_EQ(fs::file_size(path), 1150u);
  ::close(fd);
  rlimit limit_after;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &limit_after), 0);
  EXPECT_EQ(limit_after.rlim_cur, limit_before.rlim_cur);
  EXPECT_EQ(limit_after.rlim_max, limit_before.rlim_max);
  struct sigaction action_after;
  ASSERT_EQ(::sigaction(SIGXFSZ, nullptr, &action_after), 0);
  EXPECT_EQ(action_after.sa_handler, action_before.sa_handler);
}

// A write that fails part-way (a full disk) must not leave part of its batch
// in the segment: the next batch would follow the fragment, and Replay would
// take that for corruption in the middle of the log. The segment is cut back
// to its last whole batch, the failed batch's records are dropped, the write
// reports the error, and the log goes on where it was.
TEST_F(SegmentLogTest, WriteThatFailsPartWayLeavesTheSegmentEndingWithItsLastWholeBatch) {
  Reopen();
  Add(1, {"first batch"});
  WriteBatch();
  Add(2, {"second batch, ", "first record"});
  Add(3, {std::string(3000, 's')});
  WriteBatch();
  const uint64_t size = fs::file_size(Segment(1));
  ASSERT_EQ(log_->bytes(), size);
  const std::string whole = ReadFile(Segment(1));
  // The batch that fails: two records, 10 kB.
  const std::string big(10'000, 'f');
  const std::string small = "second record of the failed batch";
  const uint64_t failed_bytes = SegmentLog::kBatchHeaderBytes + 2 * SegmentLog::kRecordHeaderBytes +
                                big.size() + small.size();
  const LogPosition next =
      (uint64_t{1} << 32) | (size + SegmentLog::kBatchHeaderBytes + SegmentLog::kRecordHeaderBytes);

  // Room in the file for none of the batch, one byte, its header, half of
  // it, all of it but its last byte.
  for (uint64_t room : {uint64_t{0}, uint64_t{1}, uint64_t{SegmentLog::kBatchHeaderBytes},
                        failed_bytes / 2, failed_bytes - 1}) {
    SCOPED_TRACE("room for " + std::to_string(room) + " of the batch's " +
                 std::to_string(failed_bytes) + " bytes");
    EXPECT_EQ(log_->Append(7, {big}), next);
    log_->Append(8, {small});
    ASSERT_EQ(log_->pending_bytes(), failed_bytes);
    Status s;
    std::vector<Truncation> truncations;
    {
      TruncateRecorder recorder;
      testing::FileSizeLimit limit(size + room);
      s = log_->Write();
      truncations = recorder.truncations();
    }
    ASSERT_FALSE(s.ok()) << "a write past the file-size limit succeeded";
    EXPECT_EQ(s.code(), StatusCode::kIOError);
    EXPECT_NE(s.detail().find(std::strerror(EFBIG)), std::string::npos) << s.detail();
    // The part that reached the file was there, and was cut off.
    EXPECT_EQ(truncations, (std::vector<Truncation>{{size + room, size}}));
    EXPECT_EQ(fs::file_size(Segment(1)), size);
    EXPECT_TRUE(ReadFile(Segment(1)) == whole) << "the segment's batches were changed";
    // The failed batch's records are gone; nothing counts them.
    EXPECT_FALSE(log_->HasPending());
    EXPECT_EQ(log_->pending_bytes(), 0u);
    EXPECT_EQ(log_->bytes(), size);
    EXPECT_EQ(log_->SegmentSizes(), (std::vector<std::pair<uint32_t, uint64_t>>{{1, size}}));
  }

  // With the limit lifted, the next batch follows the last whole one.
  const std::string after = "after the failed writes";
  EXPECT_EQ(Add(9, {after}), next);
  WriteBatch();
  const uint64_t size_after =
      size + SegmentLog::kBatchHeaderBytes + SegmentLog::kRecordHeaderBytes + after.size();
  EXPECT_EQ(fs::file_size(Segment(1)), size_after);
  EXPECT_EQ(log_->bytes(), size_after);
  std::string out;
  ASSERT_TRUE(log_->Read(next, static_cast<uint32_t>(after.size()), &out).ok());
  EXPECT_EQ(out, after);
  log_.reset();

  // Replay gives the batches before the failures and the one after, and
  // finds nothing damaged.
  testing::LogCapture logs;
  std::unique_ptr<SegmentLog> log;
  std::vector<Rec> records;
  Status s = OpenAndReplay(dir_, &log, &records);
  ASSERT_TRUE(s.ok()) << s.detail();
  EXPECT_EQ(records, expected_);
  EXPECT_TRUE(logs.Find("event=torn_tail_dropped").empty());
  EXPECT_EQ(fs::file_size(Segment(1)), size_after);
}

// --- A full disk, played by a fake of the log's file calls ----------------------------

// What WritesAcrossTheSegmentEndSucceedOnAFullDisk checks on a tmpfs (which
// needs root), with a fake disk: once the log has reserved its segment and
// the spare, a disk with no block left still takes batches past the
// segment's end and on into the next, and a restart on it reads them back.
TEST_F(SegmentLogTest, ReservedSegmentsTakeWritesAcrossTheSegmentEndOnAFakeFullDisk) {
  testing::FakeDisk disk(uint64_t{1} << 40);
  files_ = &disk;
  Reopen();
  disk.set_free(0);
  const std::string payload(1 << 20, 'p');
  while (!log_->HasSegment(2) || log_->bytes() < SegmentLog::kSegmentBytes + (4 << 20)) {
    Add(1, {payload});
    Status s = log_->Write();
    ASSERT_TRUE(s.ok()) << "at " << log_->bytes() << " bytes: " << s.detail();
  }
  EXPECT_EQ(Reopen(), expected_);
  log_.reset();
}

// The fake's full disk does fail a write that no reservation covers: the
// log could not reserve its segment (a disk full before it opened).
TEST_F(SegmentLogTest, UnreservedSegmentOnAFakeFullDiskFailsItsWriteWithEnospc) {
  testing::FakeDisk disk(1 << 20);  // room for FORMAT, not for a reservation
  files_ = &disk;
  Reopen();
  disk.set_free(0);
  log_->Append(1, {"no room"});
  Status s = log_->Write();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.detail().find(std::strerror(ENOSPC)), std::string::npos) << s.detail();
  EXPECT_EQ(fs::file_size(Segment(1)), 0u);
}

// What WriteThatFailsPartWayLeavesTheSegmentEndingWithItsLastWholeBatch
// checks with a file-size limit, with a disk that fills under the write
// (ENOSPC) after none of the batch, one byte, its header or half of it.
TEST_F(SegmentLogTest, WriteThatAFullDiskCutsShortLeavesTheSegmentEndingWithItsLastWholeBatch) {
  testing::FakeDisk disk(uint64_t{1} << 40);
  files_ = &disk;
  Reopen();
  Add(1, {"first batch"});
  WriteBatch();
  const uint64_t size = fs::file_size(Segment(1));
  const std::string whole = ReadFile(Segment(1));
  const std::string big(10'000, 'f');
  for (uint64_t room :
       {uint64_t{0}, uint64_t{1}, uint64_t{SegmentLog::kBatchHeaderBytes}, uint64_t{5000}}) {
    SCOPED_TRACE("room for " + std::to_string(room) + " bytes");
    log_->Append(7, {big});
    disk.FailWritesAfter(room);
    Status s = log_->Write();
    ASSERT_FALSE(s.ok()) << "a write past the full disk succeeded";
    EXPECT_NE(s.detail().find(std::strerror(ENOSPC)), std::string::npos) << s.detail();
    EXPECT_EQ(fs::file_size(Segment(1)), size);
    EXPECT_TRUE(ReadFile(Segment(1)) == whole) << "the segment's batches were changed";
    EXPECT_FALSE(log_->HasPending());
    EXPECT_EQ(log_->bytes(), size);
  }
  disk.AllowWrites();
  Add(9, {"after the failed writes"});
  WriteBatch();
  log_.reset();
  testing::LogCapture logs;
  EXPECT_EQ(Reopen(), expected_);
  EXPECT_TRUE(logs.Find("event=torn_tail_dropped").empty());
}

// A write(2) may write less than it was given: the log goes on from where
// it stopped, and the batch is whole.
TEST_F(SegmentLogTest, ShortWritesGoOnWhereTheyStopped) {
  testing::FakeDisk disk(uint64_t{1} << 40);
  files_ = &disk;
  Reopen();
  Add(1, {"a batch written seven bytes at a time"});
  Add(2, {std::string(100, 'x')});
  disk.ShortenWrites(1000, 7);
  WriteBatch();
  EXPECT_EQ(log_->bytes(), fs::file_size(Segment(1)));
  testing::LogCapture logs;
  EXPECT_EQ(Reopen(), expected_);
  EXPECT_TRUE(logs.Find("event=torn_tail_dropped").empty());
}

// --- Segments -----------------------------------------------------------------------

TEST_F(SegmentLogTest, RotateEndsTheSegmentAndStartsTheNext) {
  Reopen();
  EXPECT_EQ(SegmentOf(Add(1, {"one"})), 1u);
  WriteBatch();
  auto ended = log_->Rotate();
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(*ended, 1u);
  EXPECT_TRUE(log_->HasSegment(2));
  EXPECT_EQ(SegmentFiles(dir_), (std::vector<std::string>{SegmentName(1), SegmentName(2)}));
  const LogPosition p = Add(2, {"two"});
  EXPECT_EQ(SegmentOf(p), 2u);
  EXPECT_EQ(p & 0xffffffffu, SegmentLog::kBatchHeaderBytes + SegmentLog::kRecordHeaderBytes);
  WriteBatch();
  ended = log_->Rotate();
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(*ended, 2u);
  log_.reset();
  EXPECT_EQ(Reopen(), expected_);
}

TEST_F(SegmentLogTest, DropThroughDeletesOldSegmentsButNotTheActiveOneAndBytesFollows) {
  Reopen();
  const LogPosition p1 = Add(1, {std::string(100, '1')});
  WriteBatch();
  const uint64_t size1 = log_->bytes();
  ASSERT_TRUE(log_->Rotate().ok());
  const LogPosition p2 = Add(2, {std::string(200, '2')});
  WriteBatch();
  const uint64_t size2 = log_->bytes() - size1;
  ASSERT_TRUE(log_->Rotate().ok());
  const LogPosition p3 = Add(3, {std::string(300, '3')});
  WriteBatch();
  const uint64_t size3 = log_->bytes() - size1 - size2;
  EXPECT_EQ(size1, fs::file_size(Segment(1)));
  EXPECT_EQ(size2, fs::file_size(Segment(2)));
  EXPECT_EQ(size3, fs::file_size(Segment(3)));

  ASSERT_TRUE(log_->DropThrough(1).ok());
  EXPECT_EQ(SegmentFiles(dir_), (std::vector<std::string>{SegmentName(2), SegmentName(3)}));
  EXPECT_FALSE(log_->HasSegment(1));
  EXPECT_TRUE(log_->HasSegment(2));
  EXPECT_EQ(log_->bytes(), size2 + size3);
  std::string out;
  EXPECT_FALSE(log_->Read(p1, 100, &out).ok());
  ASSERT_TRUE(log_->Read(p2, 200, &out).ok());
  EXPECT_EQ(out, std::string(200, '2'));

  // Asked to drop past the active segment, it keeps the active one.
  ASSERT_TRUE(log_->DropThrough(7).ok());
  EXPECT_EQ(SegmentFiles(dir_), std::vector<std::string>{SegmentName(3)});
  EXPECT_EQ(log_->bytes(), size3);
  ASSERT_TRUE(log_->Read(p3, 300, &out).ok());
  EXPECT_EQ(out, std::string(300, '3'));
  // Pending bytes still count.
  Add(4, {"more"});
  EXPECT_EQ(log_->bytes(), size3 + SegmentLog::kBatchHeaderBytes + 8 + 4);
  WriteBatch();
  log_.reset();

  std::vector<Rec> records = Reopen();
  EXPECT_EQ(records, std::vector<Rec>(expected_.begin() + 2, expected_.end()));
  EXPECT_EQ(log_->bytes(), fs::file_size(Segment(3)));
}

TEST_F(SegmentLogTest, SegmentRollsOverOnceItHoldsSegmentBytes) {
  Reopen();
  const std::string payload(4 << 20, 'p');  // 4 MiB
  const uint64_t batch_bytes = SegmentLog::kBatchHeaderBytes + 8 + payload.size();
  const uint64_t batches_to_fill = (SegmentLog::kSegmentBytes + batch_bytes - 1) / batch_bytes;
  std::vector<LogPosition> positions;
  for (uint64_t i = 0; i < batches_to_fill; ++i) {
    positions.push_back(log_->Append(1, {payload}));
    ASSERT_TRUE(log_->Write().ok());
    // The segment was not full before this write.
    EXPECT_EQ(SegmentOf(positions.back()), 1u);
  }
  // The write that filled segment 1 started segment 2.
  EXPECT_TRUE(log_->HasSegment(2));
  EXPECT_EQ(fs::file_size(Segment(1)), batches_to_fill * batch_bytes);
  EXPECT_GE(fs::file_size(Segment(1)), SegmentLog::kSegmentBytes);
  const LogPosition next = log_->Append(2, {"next"});
  EXPECT_EQ(SegmentOf(next), 2u);
  ASSERT_TRUE(log_->Write().ok());
  std::string out;
  ASSERT_TRUE(log_->Read(positions.back(), 16, &out).ok());
  EXPECT_EQ(out, payload.substr(0, 16));
  EXPECT_EQ(log_->bytes(), batches_to_fill * batch_bytes + SegmentLog::kBatchHeaderBytes + 8 + 4);
  log_.reset();

  std::vector<Rec> records = Reopen();
  ASSERT_EQ(records.size(), batches_to_fill + 1);
  for (uint64_t i = 0; i < batches_to_fill; ++i) {
    EXPECT_EQ(records[i].position, positions[i]);
    EXPECT_TRUE(records[i].payload == payload) << "record " << i;
  }
  EXPECT_EQ(records.back().position, next);
  EXPECT_EQ(records.back().payload, "next");
}

// Segments are started one after another and deleted oldest first, so those
// there are always run without a gap. A segment missing between two others is
// lost data (records of every kind), not something to replay past.
TEST_F(SegmentLogTest, SegmentMissingBetweenOthersFailsReplay) {
  Reopen();
  for (int i = 1; i <= 3; ++i) {
    Add(i, {"in segment " + std::to_string(i)});
    WriteBatch();
    ASSERT_TRUE(log_->Rotate().ok());
  }
  log_.reset();
  ASSERT_TRUE(fs::remove(Segment(2)));
  std::unique_ptr<SegmentLog> log;
  std::vector<Rec> records;
  Status s = OpenAndReplay(dir_, &log, &records);
  ASSERT_FALSE(s.ok()) << "replayed " << records.size() << " records past a missing segment";
  EXPECT_NE(s.detail().find(SegmentName(2)), std::string::npos) << s.detail();
}

// --- Durability order ---------------------------------------------------------------

TEST_F(SegmentLogTest, RotateSyncsTheEndedSegmentBeforeStartingTheNext) {
  Reopen();
  Add(1, {"data"});
  WriteBatch();
  std::vector<std::string> synced;
  {
    SyncRecorder recorder;
    ASSERT_TRUE(log_->Rotate().ok());
    synced = recorder.synced();
  }
  const long seg1 = IndexOf(synced, Segment(1).string());
  const long dir = IndexOf(synced, dir_.string());
  ASSERT_GE(seg1, 0) << "synced: " << Joined(synced);
  ASSERT_GE(dir, 0) << "synced: " << Joined(synced);
  EXPECT_LT(seg1, dir) << "synced: " << Joined(synced);
}

// The log's rule: what a segment holds is durable before the next one takes
// writes, so that syncing the newest segment covers everything and damage in
// an older one is corruption, never a torn write. A broker killed before its
// last write was synced leaves that write in the page cache only; the next
// start replays it and starts a new segment, and must make the old one
// durable first, or a power cut later leaves a torn older segment and the log
// cannot be opened at all.
TEST_F(SegmentLogTest, ReplaySyncsTheLastSegmentBeforeStartingTheNext) {
  Reopen();
  Add(1, {"written, never synced"});
  WriteBatch();
  log_.reset();  // as a killed broker would: no Sync

  std::vector<std::string> synced;
  {
    SyncRecorder recorder;
    Reopen();
    synced = recorder.synced();
  }
  ASSERT_TRUE(log_->HasSegment(2));
  const long seg1 = IndexOf(synced, Segment(1).string());
  const long dir = IndexOf(synced, dir_.string());
  ASSERT_GE(dir, 0) << "synced: " << Joined(synced);
  ASSERT_GE(seg1, 0) << "segment 1 was never synced before segment 2 was started; synced: "
                     << Joined(synced);
  EXPECT_LT(seg1, dir) << "synced: " << Joined(synced);
}

// --- Odd directories ----------------------------------------------------------------

TEST_F(SegmentLogTest, OtherFilesInTheDirectoryAreLeftAlone) {
  Reopen();
  Add(1, {"x"});
  WriteBatch();
  log_.reset();
  WriteFile(dir_ / "README", "not a segment");
  WriteFile(dir_ / "0000000001.seg.bak", "not a segment either");
  EXPECT_EQ(Reopen(), expected_);
  EXPECT_EQ(ReadFile(dir_ / "README"), "not a segment");
}

// A file whose name has a segment's shape but no number must not take the
// broker down with an exception at start.
TEST_F(SegmentLogTest, OpenDoesNotThrowOnASegmentNameThatIsNotANumber) {
  Reopen();
  log_.reset();
  WriteFile(dir_ / "notanumber.seg", "junk");
  bool threw = false;
  try {
    auto opened = SegmentLog::Open(dir_.string());
    if (opened.ok()) {
      Status s = (*opened)->Replay([](const LogRecord&) { return Status::Ok(); });
      EXPECT_TRUE(s.ok()) << s.detail();
    } else {
      EXPECT_NE(opened.status().detail().find("notanumber.seg"), std::string::npos)
          << opened.status().detail();
    }
  } catch (const std::exception& e) {
    threw = true;
    ADD_FAILURE() << "SegmentLog::Open threw " << e.what();
  }
  EXPECT_FALSE(threw);
}

}  // namespace
}  // namespace sluice
