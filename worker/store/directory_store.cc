#include "worker/store/directory_store.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>

namespace sluice::worker {
namespace {

constexpr size_t kMaxKeyBytes = 1024;  // as S3
// A key's components are file names: longer ones cannot exist (NAME_MAX).
constexpr size_t kMaxComponentBytes = 255;

// A file descriptor closed when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_;
};

JobError StorageError(const std::string& what, int err) {
  return {FailureReason::kStorage, what + ": " + std::strerror(err)};
}

// openat2 with RESOLVE_BENEATH: `path` may not leave `dir_fd`, by "..", an
// absolute path or a symlink. Sets errno (EXDEV for an escape) on failure.
int OpenBeneath(int dir_fd, const std::string& path, uint64_t flags, uint64_t mode = 0) {
  struct open_how how;
  std::memset(&how, 0, sizeof(how));
  how.flags = flags | O_CLOEXEC;
  how.mode = mode;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd;
  do {
    fd = syscall(SYS_openat2, dir_fd, path.c_str(), &how, sizeof(how));
  } while (fd < 0 && errno == EAGAIN);
  return static_cast<int>(fd);
}

// Maps an open/rename failure on a key to the job's failure reason.
JobError OpenError(const std::string& key, int err) {
  if (err == ENOENT) return {FailureReason::kNoSuchKey, "no such key: " + key};
  if (err == EXDEV || err == ELOOP || err == ENOTDIR) {
    return {FailureReason::kInvalidKey, "key leaves its bucket or crosses a non-directory: " + key};
  }
  return StorageError("cannot open " + key, err);
}

Result<Fd, JobError> OpenBucket(const std::string& root, const std::string& bucket) {
  if (!IsValidBucketName(bucket)) {
    return JobError{FailureReason::kInvalidKey, "invalid bucket name: '" + bucket + "'"};
  }
  Fd fd(open((root + "/" + bucket).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) {
      return JobError{FailureReason::kNoSuchKey, "no such bucket: " + bucket};
    }
    return StorageError("cannot open bucket " + bucket, errno);
  }
  return fd;
}

std::string DirName(const std::string& key) {
  const size_t slash = key.rfind('/');
  return slash == std::string::npos ? "" : key.substr(0, slash);
}
std::string BaseName(const std::string& key) {
  const size_t slash = key.rfind('/');
  return slash == std::string::npos ? key : key.substr(slash + 1);
}

// Opens the directory `dir` (a key's directory part) under the bucket,
// creating its missing components, each resolved beneath the bucket.
Result<Fd, JobError> OpenOrMakeDir(int bucket_fd, const std::string& dir) {
  if (dir.empty()) {
    Fd fd(dup(bucket_fd));
    if (!fd.valid()) return StorageError("dup", errno);
    return fd;
  }
  size_t end = 0;
  while (true) {
    end = dir.find('/', end + 1);
    const std::string prefix = dir.substr(0, end);
    Fd fd(OpenBeneath(bucket_fd, prefix, O_RDONLY | O_DIRECTORY));
    if (!fd.valid() && errno == ENOENT) {
      Fd parent(OpenBeneath(bucket_fd, DirName(prefix).empty() ? "." : DirName(prefix),
                            O_RDONLY | O_DIRECTORY));
      if (!parent.valid()) return OpenError(prefix, errno);
      if (mkdirat(parent.get(), BaseName(prefix).c_str(), 0755) != 0 && errno != EEXIST) {
        return StorageError("cannot create directory " + prefix, errno);
      }
      fd = Fd(OpenBeneath(bucket_fd, prefix, O_RDONLY | O_DIRECTORY));
      if (!fd.valid() && errno == ENOENT) {
        // mkdir found a name there that does not resolve: a dangling symlink.
        // Not kNoSuchKey, which a caller takes to mean that the source is gone.
        return JobError{FailureReason::kInvalidKey, "dangling symlink at directory " + prefix};
      }
    }
    if (!fd.valid()) return OpenError(prefix, errno);
    if (end == std::string::npos) return fd;
  }
}

std::string TempName(const std::string& name) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  // At most 100 bytes of the name, so that the temporary name fits in
  // NAME_MAX whenever the name itself does.
  // Appended piece by piece: GCC 12 at -O3 misreads `"." + std::string`
  // as a copy into itself (a false -Wrestrict).
  std::string temp = ".";
  temp.append(name, 0, 100).append(".sluice-tmp-").append(std::to_string(getpid()));
  temp.append("-").append(std::to_string(counter.fetch_add(1)));
  temp.append("-").append(std::to_string(rng() % 1'000'000));
  return temp;
}

}  // namespace

bool IsValidBucketName(std::string_view bucket) {
  if (bucket.empty() || bucket.size() > 255 || bucket == "." || bucket == "..") return false;
  for (char c : bucket) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool IsValidKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyBytes || key.front() == '/' || key.back() == '/') {
    return false;
  }
  if (key.find('\0') != std::string_view::npos) return false;
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    const std::string_view part = key.substr(start, end - start);
    if (part.empty() || part == "." || part == ".." || part.size() > kMaxComponentBytes) {
      return false;
    }
    start = end + 1;
  }
  return true;
}

Result<std::string, JobError> DirectoryStore::Read(const std::string& bucket,
                                                   const std::string& key, size_t max_bytes) const {
  if (!IsValidKey(key)) return JobError{FailureReason::kInvalidKey, "invalid key: '" + key + "'"};
  auto bucket_fd = OpenBucket(root_, bucket);
  if (!bucket_fd.ok()) return bucket_fd.error();
  Fd fd(OpenBeneath(bucket_fd->get(), key, O_RDONLY | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) return OpenError(key, errno);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return StorageError("cannot stat " + key, errno);
  if (!S_ISREG(st.st_mode)) {
    return JobError{FailureReason::kInvalidKey, "not a regular file: " + key};
  }
  if (static_cast<size_t>(st.st_size) > max_bytes) {
    return JobError{FailureReason::kTooLarge, key + " has " + std::to_string(st.st_size) +
                                                  " bytes, over the limit of " +
                                                  std::to_string(max_bytes)};
  }
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = read(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return StorageError("cannot read " + key, errno);
    if (n == 0) break;  // shrank while we read: take what is there
    done += static_cast<size_t>(n);
  }
  data.resize(done);
  return data;
}

Result<bool, JobError> DirectoryStore::Write(const std::string& bucket, const std::string& key,
                                             std::string_view data) const {
  if (!IsValidKey(key)) return JobError{FailureReason::kInvalidKey, "invalid key: '" + key + "'"};
  auto bucket_fd = OpenBucket(root_, bucket);
  if (!bucket_fd.ok()) return bucket_fd.error();
  auto dir = OpenOrMakeDir(bucket_fd->get(), DirName(key));
  if (!dir.ok()) return dir.error();
  const std::string name = BaseName(key);
  const std::string temp = TempName(name);
  Fd fd(
      openat(dir->get(), temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd.valid()) return StorageError("cannot create a temporary file for " + key, errno);
  auto fail = [&](const std::string& what) {
    const int err = errno;
    unlinkat(dir->get(), temp.c_str(), 0);
    return StorageError(what + " " + key, err);
  };
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("cannot write");
    done += static_cast<size_t>(n);
  }
  if (fdatasync(fd.get()) != 0) return fail("cannot sync");
  if (renameat(dir->get(), temp.c_str(), dir->get(), name.c_str()) != 0) {
    if (errno == EISDIR || errno == ENOTEMPTY) {
      unlinkat(dir->get(), temp.c_str(), 0);
      return JobError{FailureReason::kInvalidKey, "a directory is in the way of " + key};
    }
    return fail("cannot rename into");
  }
  if (fsync(dir->get()) != 0) return StorageError("cannot sync the directory of " + key, errno);
  return true;
}

Result<bool, JobError> DirectoryStore::Move(const std::string& bucket, const std::string& from,
                                            const std::string& to) const {
  if (!IsValidKey(from)) return JobError{FailureReason::kInvalidKey, "invalid key: '" + from + "'"};
  if (!IsValidKey(to)) return JobError{FailureReason::kInvalidKey, "invalid key: '" + to + "'"};
  auto bucket_fd = OpenBucket(root_, bucket);
  if (!bucket_fd.ok()) return bucket_fd.error();
  const std::string from_dir_name = DirName(from);
  Fd from_dir(OpenBeneath(bucket_fd->get(), from_dir_name.empty() ? "." : from_dir_name,
                          O_RDONLY | O_DIRECTORY));
  if (!from_dir.valid()) return OpenError(from, errno);
  auto to_dir = OpenOrMakeDir(bucket_fd->get(), DirName(to));
  if (!to_dir.ok()) return to_dir.error();
  if (renameat(from_dir.get(), BaseName(from).c_str(), to_dir->get(), BaseName(to).c_str()) != 0) {
    return OpenError(from, errno);
  }
  if (fsync(to_dir->get()) != 0 || fsync(from_dir.get()) != 0) {
    return StorageError("cannot sync the directories of " + to, errno);
  }
  return true;
}

}  // namespace sluice::worker
