#include "broker/storage/segment_log.h"

#include <dirent.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "broker/storage/coding.h"
#include "broker/storage/crc32c.h"
#include "broker/storage/durable_dir.h"
#include "broker/storage/storage_status.h"

namespace sluice {
namespace {

constexpr char kSuffix[] = ".seg";
// The log's format is named in a file of its own, written before the first
// segment: a log in another format is refused, never read as damage.
constexpr char kFormatFile[] = "FORMAT";
// The next segment, its blocks reserved ahead (see Reserve).
constexpr char kSpareFile[] = "spare";
constexpr std::string_view kFormat = "sluice-log 4\n";
// Rejects a damaged length before its checksum is computed; no turn writes
// this much.
constexpr uint32_t kMaxBatchBytes = 1u << 30;

Status CorruptAt(const std::string& path, uint64_t offset, const std::string& what) {
  return Corrupt(path + " at offset " + std::to_string(offset) + ": " + what);
}

void Put32(char* p, uint32_t v) { EncodeFixed32(p, v); }
uint32_t Get32(const char* p) { return DecodeFixed32(p); }

// Whether the batch header at `p`, with `n` bytes from there to the end of
// the segment, is whole and passes its checksum.
bool HeaderIntact(const char* p, size_t n) {
  return n >= SegmentLog::kBatchHeaderBytes &&
         Crc32c(p + 4, SegmentLog::kBatchHeaderBytes - 4) == Get32(p);
}

// Whether a whole, undamaged batch starts at `p`, with `n` bytes from there
// to the end of the segment; sets `*length` to the bytes after its header.
bool ValidBatchAt(const char* p, size_t n, uint32_t* length, std::string* problem) {
  if (n < SegmentLog::kBatchHeaderBytes) {
    *problem = "a batch header cut short";
    return false;
  }
  if (!HeaderIntact(p, n)) {
    *problem = "a batch header fails its checksum";
    return false;
  }
  const uint32_t bytes = Get32(p + 4);
  if (bytes > kMaxBatchBytes || bytes > n - SegmentLog::kBatchHeaderBytes) {
    *problem = "a batch runs past the end of the segment";
    return false;
  }
  if (Crc32c(p + SegmentLog::kBatchHeaderBytes, bytes) != Get32(p + 12)) {
    *problem = "a batch fails its checksum";
    return false;
  }
  *length = bytes;
  return true;
}

// Whether whole batches run from `at` exactly to the end of the segment. Sets
// `*synced` to the most that the whole batches from `at`, up to the first
// damaged one, say was durable.
bool ValidBatchesToTheEnd(std::string_view data, size_t at, uint32_t* synced) {
  uint32_t length;
  std::string problem;
  *synced = 0;
  while (at < data.size()) {
    if (!ValidBatchAt(data.data() + at, data.size() - at, &length, &problem)) return false;
    *synced = std::max(*synced, Get32(data.data() + at + 16));
    at += SegmentLog::kBatchHeaderBytes + length;
  }
  return true;
}

// Whether the damaged batch at `at` is followed by an undamaged batch that
// was written after a sync covered the damaged one: then it is corruption,
// not a write torn by a crash (a crash of the machine can leave unsynced
// writes on disk out of order, a damaged one before whole ones). A batch
// whose header is whole is followed by the batches from its end, up to the
// end of the segment or a second damaged one (a torn tail behind corruption
// does not hide it). With a damaged header every later offset is tried, and
// the batches found must reach the end of the segment: that keeps a batch
// quoted inside a message body (any client can send one) from passing for
// the log's own.
bool SyncedBatchesFollow(std::string_view data, size_t at) {
  const char* p = data.data() + at;
  uint32_t synced = 0;
  if (HeaderIntact(p, data.size() - at)) {
    const uint64_t end = at + SegmentLog::kBatchHeaderBytes + uint64_t{Get32(p + 4)};
    if (end >= data.size()) return false;
    ValidBatchesToTheEnd(data, end, &synced);
    return synced > at;
  }
  uint32_t length;
  std::string problem;
  for (size_t from = at + 1; from + SegmentLog::kBatchHeaderBytes <= data.size(); ++from) {
    if (ValidBatchAt(data.data() + from, data.size() - from, &length, &problem) &&
        ValidBatchesToTheEnd(data, from, &synced)) {
      return synced > at;
    }
  }
  return false;
}

}  // namespace

Status SegmentLog::WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t w = files_->Write(fd, data.data(), data.size());
    if (w < 0) {
      if (errno == EINTR) continue;
      return Errno("writing the log");
    }
    data.remove_prefix(static_cast<size_t>(w));
  }
  return Status::Ok();
}

struct SegmentLog::Segment {
  uint32_t number = 0;
  int fd = -1;
  uint64_t size = 0;  // bytes written (touched by the loop thread only)
  ~Segment() {
    if (fd >= 0) ::close(fd);
  }
};

std::string SegmentLog::PathOf(uint32_t number) const {
  char name[32];
  std::snprintf(name, sizeof name, "%010" PRIu32 "%s", number, kSuffix);
  return dir_ + "/" + name;
}

Result<std::unique_ptr<SegmentLog>> SegmentLog::Open(const std::string& dir, FileOps* files) {
  // The directory's name must be durable before anything in it is.
  if (Status s = MakeDurableDirectory(dir); !s.ok()) return s;
  std::unique_ptr<SegmentLog> log(new SegmentLog(dir, files));
  log->dir_fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (log->dir_fd_ < 0) return Errno("opening " + dir);
  DIR* d = ::fdopendir(::dup(log->dir_fd_));
  if (d == nullptr) return Errno("listing " + dir);
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    uint32_t number = 0;
    const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), number);
    // Only the log's own names, "<10 digits>.seg"; anything else is not ours.
    if (ec != std::errc() || end != name.data() + 10 || name.substr(10) != kSuffix) continue;
    auto segment = std::make_shared<Segment>();
    segment->number = number;
    segment->fd = ::open(log->PathOf(number).c_str(), O_RDWR | O_CLOEXEC);
    if (segment->fd < 0) {
      ::closedir(d);
      return Errno("opening " + log->PathOf(number));
    }
    log->segments_[number] = segment;
  }
  ::closedir(d);
  if (Status s = log->CheckFormat(); !s.ok()) return s;
  return log;
}

Status SegmentLog::CheckFormat() {
  const std::string path = dir_ + "/" + kFormatFile;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char buf[64];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    ::close(fd);
    if (n < 0) return Errno("reading " + path);
    const std::string_view found(buf, static_cast<size_t>(n));
    if (found == kFormat) return Status::Ok();
    auto escaped = [](std::string_view bytes) {
      std::string shown;
      for (unsigned char ch : bytes) {
        if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') {
          shown += static_cast<char>(ch);
        } else {
          char hex[5];
          std::snprintf(hex, sizeof hex, "\\x%02x", ch);
          shown += hex;
        }
      }
      return shown;
    };
    return Status(StatusCode::kInvalidArgument,
                  path + " names a log format this broker does not read: \"" + escaped(found) +
                      "\" (it reads \"" + escaped(kFormat) + "\")");
  }
  if (errno != ENOENT) return Errno("opening " + path);
  if (!segments_.empty()) {
    return Status(StatusCode::kInvalidArgument,
                  dir_ +
                      " holds log segments but no FORMAT file: an older Sluice wrote them, in a "
                      "format this broker does not read; drain its queues with that broker, then "
                      "remove " +
                      dir_);
  }
  return WriteFormat();
}

Status SegmentLog::WriteFormat() {
  const std::string path = dir_ + "/" + kFormatFile;
  // Written whole under another name, then renamed, so that it is never
  // seen half written.
  const std::string temporary = path + ".tmp";
  const int out = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (out < 0) return Errno("creating " + temporary);
  Status written = WriteAll(out, kFormat);
  if (written.ok() && ::fsync(out) != 0) written = Errno("syncing " + temporary);
  ::close(out);
  if (!written.ok()) return written;
  if (::rename(temporary.c_str(), path.c_str()) != 0) return Errno("naming " + path);
  if (::fsync(dir_fd_) != 0) return Errno("syncing " + dir_);
  return Status::Ok();
}

SegmentLog::~SegmentLog() {
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

Status SegmentLog::Replay(const std::function<Status(const LogRecord&)>& visit) {
  for (auto it = segments_.begin(); it != segments_.end(); ++it) {
    const bool last = std::next(it) == segments_.end();
    // Compaction deletes the oldest segments only: a gap is a lost file.
    if (!last && std::next(it)->first != it->first + 1) {
      return Corrupt(PathOf(it->first + 1) + " is missing between " + PathOf(it->first) + " and " +
                     PathOf(std::next(it)->first));
    }
    if (Status s = ReplaySegment(it->second, last, visit); !s.ok()) return s;
    bytes_ += it->second->size;
  }
  // The last segment may hold writes the OS never flushed (--fsync never or
  // interval): they are made durable before anything newer is, or a crash
  // of the machine could leave a torn segment behind a whole one. Its
  // reserved blocks beyond what it holds go back to the disk.
  if (!segments_.empty()) {
    const Segment& last = *segments_.rbegin()->second;
    if (::ftruncate(last.fd, static_cast<off_t>(last.size)) != 0 ||
        files_->Fdatasync(last.fd) != 0) {
      return Errno("syncing " + PathOf(last.number));
    }
  }
  const uint32_t next = segments_.empty() ? 1 : segments_.rbegin()->first + 1;
  return StartSegment(next);
}

Status SegmentLog::ReplaySegment(const std::shared_ptr<Segment>& segment, bool last,
                                 const std::function<Status(const LogRecord&)>& visit) {
  const std::string path = PathOf(segment->number);
  struct stat st;
  if (::fstat(segment->fd, &st) != 0) return Errno("reading " + path);
  // Mapped rather than read: recovery touches every byte once, and a copy
  // of a million messages' log costs more than the checks on it.
  const size_t size = static_cast<size_t>(st.st_size);
  void* mapped = nullptr;
  if (size > 0) {
    mapped = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, segment->fd, 0);
    if (mapped == MAP_FAILED) return Errno("mapping " + path);
  }
  const std::unique_ptr<void, std::function<void(void*)>> unmap(
      mapped, [size](void* p) { ::munmap(p, size); });
  const std::string_view data(static_cast<const char*>(mapped), size);
  size_t at = 0;
  while (at < data.size()) {
    uint32_t length = 0;
    std::string problem;
    if (!ValidBatchAt(data.data() + at, data.size() - at, &length, &problem)) {
      if (!last || SyncedBatchesFollow(data, at)) {
        return CorruptAt(path, at,
                         problem + (last ? ", and batches written after it was synced follow it"
                                         : ", in a segment that is not the last"));
      }
      spdlog::warn("event=torn_tail_dropped file={} offset={} bytes={} detail=\"{}\"", path, at,
                   data.size() - at, problem);
      if (::ftruncate(segment->fd, static_cast<off_t>(at)) != 0 || ::fsync(segment->fd) != 0) {
        return Errno("cutting the torn tail off " + path);
      }
      break;
    }
    const size_t end = at + kBatchHeaderBytes + length;
    // The records must fill the batch exactly, as many as its header says,
    // before any of them is applied.
    uint32_t records = 0;
    for (size_t r = at + kBatchHeaderBytes; r < end; ++records) {
      if (end - r < kRecordHeaderBytes || Get32(data.data() + r) > end - r - kRecordHeaderBytes) {
        return CorruptAt(path, r, "a record overruns its batch");
      }
      r += kRecordHeaderBytes + Get32(data.data() + r);
    }
    if (records != Get32(data.data() + at + 8)) {
      return CorruptAt(path, at,
                       "the batch holds " + std::to_string(records) + " records, its header says " +
                           std::to_string(Get32(data.data() + at + 8)));
    }
    for (size_t r = at + kBatchHeaderBytes; r < end;) {
      const uint32_t size = Get32(data.data() + r);
      const LogRecord record{
          Get32(data.data() + r + 4), std::string_view(data.data() + r + kRecordHeaderBytes, size),
          (static_cast<uint64_t>(segment->number) << 32) | (r + kRecordHeaderBytes)};
      if (Status s = visit(record); !s.ok()) {
        return WithContext(s, path + " at offset " + std::to_string(r) + ": ");
      }
      r += kRecordHeaderBytes + size;
    }
    at = end;
  }
  segment->size = at;
  return Status::Ok();
}

Status SegmentLog::StartSegment(uint32_t number) {
  auto segment = std::make_shared<Segment>();
  segment->number = number;
  const std::string path = PathOf(number);
  const std::string spare = dir_ + "/" + kSpareFile;
  // No segment of the log has this number (segments_ holds every one), so
  // a file there is an empty leftover of a start that failed after it.
  if (::rename(spare.c_str(), path.c_str()) == 0) {
    segment->fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  } else if (errno == ENOENT) {
    segment->fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  } else {
    return Errno("renaming " + spare + " to " + path);
  }
  if (segment->fd < 0) return Errno("creating " + path);
  // The new file's name must be durable before records in it are counted on.
  if (::fsync(dir_fd_) != 0) return Errno("syncing " + dir_);
  // A spare that a crash interrupted may be reserved in part.
  Reserve(segment->fd, path);
  segments_[number] = segment;
  {
    std::lock_guard lock(mu_);
    active_ = segment;
    written_.store(LogPosition{number} << 32);
    recorded_synced_ = 0;
  }
  const int next = ::open(spare.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (next < 0) {
    spdlog::warn("event=log_space_not_reserved file={} error=\"{}\"", spare, std::strerror(errno));
    return Status::Ok();
  }
  Reserve(next, spare);
  ::close(next);
  return Status::Ok();
}

void SegmentLog::Reserve(int fd, const std::string& path) {
  if (files_->Fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(kReservedBytes)) == 0) {
    return;
  }
  // A filesystem without fallocate says so once; a full disk, each time.
  if (errno == EOPNOTSUPP && reserve_unsupported_) return;
  reserve_unsupported_ = errno == EOPNOTSUPP;
  spdlog::warn("event=log_space_not_reserved file={} error=\"{}\"", path, std::strerror(errno));
}

LogPosition SegmentLog::Append(uint32_t type, std::initializer_list<std::string_view> parts) {
  if (pending_.empty()) pending_.resize(kBatchHeaderBytes);
  size_t length = 0;
  for (std::string_view part : parts) length += part.size();
  char header[kRecordHeaderBytes];
  Put32(header, static_cast<uint32_t>(length));
  Put32(header + 4, type);
  pending_.append(header, kRecordHeaderBytes);
  const size_t at = pending_.size();
  for (std::string_view part : parts) pending_.append(part);
  ++pending_records_;
  return (static_cast<uint64_t>(active_->number) << 32) | (active_->size + at);
}

Status SegmentLog::Write() {
  if (!broken_.ok()) return broken_;
  if (pending_.empty()) return Status::Ok();
  char* header = pending_.data();
  const size_t length = pending_.size() - kBatchHeaderBytes;
  Put32(header + 4, static_cast<uint32_t>(length));
  Put32(header + 8, pending_records_);
  Put32(header + 12, Crc32c(header + kBatchHeaderBytes, length));
  const LogPosition synced = synced_.load();
  const uint32_t recorded =
      SegmentOf(synced) == active_->number ? static_cast<uint32_t>(synced) : 0;
  Put32(header + 16, recorded);
  Put32(header, Crc32c(header + 4, kBatchHeaderBytes - 4));
  Status written = WriteAll(active_->fd, pending_);
  if (!written.ok()) {
    // Whatever part of the batch reached the file goes, so that the segment
    // still ends with a whole batch and a later write can follow it.
    pending_.clear();
    pending_records_ = 0;
    const off_t size = static_cast<off_t>(active_->size);
    if (::ftruncate(active_->fd, size) != 0 || ::lseek(active_->fd, size, SEEK_SET) != size) {
      // Later batches would land where no position points: none is written.
      broken_ = Errno(written.detail() + "; then cutting the partial batch off");
      return broken_;
    }
    // The cut gave the segment's reserved blocks back too.
    Reserve(active_->fd, PathOf(active_->number));
    return written;
  }
  active_->size += pending_.size();
  bytes_ += pending_.size();
  written_.store((LogPosition{active_->number} << 32) | active_->size);
  recorded_synced_ = recorded;
  pending_.clear();
  pending_records_ = 0;
  if (active_->size < kSegmentBytes) return Status::Ok();
  return Rotate().status();
}

Status SegmentLog::Sync() {
  std::shared_ptr<Segment> segment;
  LogPosition written;
  {
    std::lock_guard lock(mu_);
    segment = active_;
    written = written_.load();
  }
  if (files_->Fdatasync(segment->fd) != 0) return Errno("syncing " + PathOf(segment->number));
  // Positions order by segment first: a sync of an older segment, ended
  // meanwhile, never lowers what is known durable.
  std::lock_guard lock(mu_);
  if (written > synced_.load()) synced_.store(written);
  return Status::Ok();
}

Status SegmentLog::MarkSynced() {
  const LogPosition synced = synced_.load();
  // Not when it would fill the segment: a mark is not worth a new segment.
  if (!pending_.empty() || synced != written_.load() || SegmentOf(synced) != active_->number ||
      static_cast<uint32_t>(synced) <= recorded_synced_ ||
      active_->size + kBatchHeaderBytes >= kSegmentBytes) {
    return Status::Ok();
  }
  pending_.resize(kBatchHeaderBytes);
  return Write();
}

Result<uint32_t> SegmentLog::Rotate() {
  const uint32_t ended = active_->number;
  // What the ended segment holds is durable before the next one takes writes,
  // so a sync of the newest segment covers everything.
  if (files_->Fdatasync(active_->fd) != 0) return Errno("syncing " + PathOf(ended));
  // A segment ended early (by a compaction) gives its unused blocks back.
  if (::ftruncate(active_->fd, static_cast<off_t>(active_->size)) != 0) {
    return Errno("ending " + PathOf(ended));
  }
  if (Status s = StartSegment(ended + 1); !s.ok()) return s;
  return ended;
}

Status SegmentLog::DropThrough(uint32_t last) {
  for (auto it = segments_.begin(); it != segments_.end() && it->first <= last;) {
    if (it->second == active_) break;
    if (::unlink(PathOf(it->first).c_str()) != 0) return Errno("deleting " + PathOf(it->first));
    bytes_ -= it->second->size;
    dropped_.push_back(std::move(it->second));
    it = segments_.erase(it);
  }
  if (::fsync(dir_fd_) != 0) return Errno("syncing " + dir_);
  return Status::Ok();
}

void SegmentLog::CloseDropped() {
  if (!dropped_.empty()) dropped_.pop_front();
}

std::vector<std::pair<uint32_t, uint64_t>> SegmentLog::SegmentSizes() const {
  std::vector<std::pair<uint32_t, uint64_t>> sizes;
  for (const auto& [number, segment] : segments_) sizes.emplace_back(number, segment->size);
  return sizes;
}

Status SegmentLog::Read(LogPosition at, uint32_t size, std::string* out) const {
  auto it = segments_.find(SegmentOf(at));
  if (it == segments_.end()) {
    return Status(StatusCode::kNotFound, "no log segment " + std::to_string(SegmentOf(at)));
  }
  const Segment& segment = *it->second;
  const uint64_t offset = at & 0xffffffffu;
  // Checked before the buffer is sized: a damaged record's size could be
  // anything up to 4 GiB.
  if (&segment != active_.get() && offset + size > segment.size) {
    return Status(StatusCode::kCorruption, "a body runs past the end of its log segment");
  }
  out->resize(size);
  // What is not written yet is still in the pending batch.
  size_t on_disk = size;
  if (&segment == active_.get() && offset + size > segment.size) {
    if (offset + size > segment.size + pending_.size()) {
      return Status(StatusCode::kNotFound, "a read runs past the end of the log");
    }
    on_disk = offset >= segment.size ? 0 : segment.size - offset;
    std::memcpy(out->data() + on_disk, pending_.data() + (offset + on_disk - segment.size),
                size - on_disk);
  }
  for (size_t done = 0; done < on_disk;) {
    const ssize_t r =
        ::pread(segment.fd, out->data() + done, on_disk - done, static_cast<off_t>(offset + done));
    if (r <= 0) {
      if (r < 0 && errno == EINTR) continue;
      return r == 0 ? Status(StatusCode::kCorruption, "a body runs past the end of its log segment")
                    : Errno("reading " + PathOf(segment.number));
    }
    done += static_cast<size_t>(r);
  }
  return Status::Ok();
}

}  // namespace sluice
