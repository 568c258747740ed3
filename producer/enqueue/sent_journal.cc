#include "producer/enqueue/sent_journal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

#include "common/bucket_layout.h"
#include "producer/enqueue/journal_path.h"

namespace sluice {
namespace {

Status IoError(const std::string& what, int err) {
  return Status(StatusCode::kIOError, what + ": " + std::strerror(err));
}

// Closes a descriptor when it goes out of scope.
struct FdCloser {
  int fd;
  ~FdCloser() { close(fd); }
};

Status WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("cannot append to " + path, errno);
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

std::string ReadAll(int fd) {
  std::string data;
  char buf[1 << 16];
  while (true) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return data;
    data.append(buf, static_cast<size_t>(n));
  }
}

bool SameUpload(const Upload& a, const Upload& b) {
  return a.path == b.path && a.size == b.size && a.mtime_ns == b.mtime_ns && a.inode == b.inode;
}

}  // namespace

std::string SentJournal::Entry(const Upload& upload) {
  char head[80];
  std::snprintf(head, sizeof head, "%" PRIu64 " %" PRId64 " %" PRIu64 " ", upload.size,
                upload.mtime_ns, upload.inode);
  std::string entry = head;
  return entry + EscapeJournalPath(upload.path);
}

bool SentJournal::ParseEntry(const std::string& entry, Upload* upload) {
  int consumed = 0;
  // The path starts after exactly one space: it may itself start with one.
  if (std::sscanf(entry.c_str(), "%" SCNu64 " %" SCNd64 " %" SCNu64 "%n", &upload->size,
                  &upload->mtime_ns, &upload->inode, &consumed) != 3 ||
      static_cast<size_t>(consumed) >= entry.size() || entry[consumed] != ' ') {
    return false;
  }
  ++consumed;
  upload->path = UnescapeJournalPath(std::string_view(entry).substr(consumed));
  return !upload->path.empty();
}

std::vector<std::string> SentJournal::ReadEntries(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  FdCloser closer{fd};
  return JournalLines(ReadAll(fd));
}

Result<std::unique_ptr<SentJournal>> SentJournal::Open(const std::string& bucket_dir) {
  const std::string dir = bucket_dir + "/" + layout::kSentJournals;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir, ec.value());
  const int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return IoError("cannot open " + dir, errno);
  FdCloser dir_closer{dir_fd};
  // Starting producers take turns: one merging a dead journal into its own
  // would otherwise let another read neither the dead one (deleted) nor the
  // merged entries (not yet written), and send those uploads again.
  if (flock(dir_fd, LOCK_EX) != 0) return IoError("cannot lock " + dir, errno);

  // pid and a random number: unique across the producers of every host that
  // shares the bucket.
  std::random_device random;
  const uint64_t nonce = (static_cast<uint64_t>(random()) << 32) | random();
  char name[64];
  std::snprintf(name, sizeof name, "%d-%016" PRIx64 ".journal", static_cast<int>(getpid()), nonce);
  const std::string path = dir + name;
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot create " + path, errno);
  std::unique_ptr<SentJournal> journal(new SentJournal(path, fd));
  // Held until the process exits, however it exits: the kernel releases it.
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) return IoError("cannot lock " + path, errno);

  std::vector<std::string> others;
  if (DIR* d = opendir(dir.c_str())) {
    while (const dirent* e = readdir(d)) {
      const std::string_view n = e->d_name;
      if (n.ends_with(".journal") && n != name) others.emplace_back(n);
    }
    closedir(d);
  }
  const BucketUploads queued(bucket_dir);
  for (const std::string& other_name : others) {
    const std::string other = dir + other_name;
    const int other_fd = open(other.c_str(), O_RDONLY | O_CLOEXEC);
    if (other_fd < 0) continue;
    FdCloser other_closer{other_fd};
    // Its lock can be taken only if its producer is gone.
    const bool dead = flock(other_fd, LOCK_EX | LOCK_NB) == 0;
    std::string kept;
    for (std::string& entry : JournalLines(ReadAll(other_fd))) {
      Upload named, now;
      // What a worker has taken on from queued/ (or replaced by a new upload
      // of the same path) needs no entry any more.
      if (dead && ParseEntry(entry, &named) && queued.Stat(layout::kQueued, named.path, &now) &&
          SameUpload(named, now)) {
        kept += entry + '\n';
      }
      journal->sent_.insert(std::move(entry));
    }
    if (!dead) continue;
    if (Status s = journal->Append(kept); !s.ok()) return s;
    if (unlink(other.c_str()) != 0 && errno != ENOENT) {
      return IoError("cannot delete " + other, errno);
    }
  }
  return journal;
}

SentJournal::~SentJournal() { close(fd_); }

Status SentJournal::Append(const std::vector<Upload>& uploads) {
  std::string lines;
  for (const Upload& upload : uploads) lines += Entry(upload) + '\n';
  return Append(lines);
}

Status SentJournal::Append(const std::string& lines) {
  if (lines.empty()) return Status::Ok();
  // O_APPEND puts each write at the end as one piece; the lock keeps the
  // rest of a short write (a full disk) from interleaving with another's.
  std::lock_guard lock(mu_);
  return WriteAll(fd_, lines, path_);
}

}  // namespace sluice
