#include "producer/enqueue/uploads.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/bucket_layout.h"

namespace sluice {
namespace {

Status IoError(const std::string& what, int err) {
  return Status(StatusCode::kIOError, what + ": " + std::strerror(err));
}

std::string ParentOf(const std::string& key) {
  const size_t slash = key.rfind('/');
  return slash == std::string::npos ? "" : key.substr(0, slash);
}

void ListDir(const std::string& root, const std::string& relative, std::vector<Upload>* out,
             size_t* skipped) {
  const std::string dir = relative.empty() ? root : root + "/" + relative;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;  // gone meanwhile, or not there yet
  std::vector<std::string> names;
  while (const dirent* e = readdir(d)) {
    const std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    const std::string path = relative.empty() ? name : relative + "/" + name;
    struct stat st;
    if (lstat((root + "/" + path).c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (name.front() != '.') ListDir(root, path, out, skipped);
    } else if (S_ISREG(st.st_mode) && !IsTemporaryName(name)) {
      out->push_back({path, static_cast<uint64_t>(st.st_size),
                      static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                      static_cast<uint64_t>(st.st_ino)});
    } else {
      ++*skipped;
    }
  }
}

}  // namespace

bool IsTemporaryName(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.back() == '~') return true;
  for (std::string_view suffix : {".part", ".tmp", ".partial", ".crdownload", ".swp"}) {
    if (name.ends_with(suffix)) return true;
  }
  return false;
}

std::vector<Upload> BucketUploads::List(const std::string& prefix, size_t* skipped) const {
  std::vector<Upload> uploads;
  size_t ignored = 0;
  std::string root = dir_ + "/" + prefix;
  if (root.back() == '/') root.pop_back();
  ListDir(root, "", &uploads, skipped != nullptr ? skipped : &ignored);
  return uploads;
}

bool BucketUploads::Stat(const std::string& prefix, const std::string& path, Upload* out) const {
  struct stat st;
  const size_t slash = path.rfind('/');
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (IsTemporaryName(name) || lstat((dir_ + "/" + prefix + path).c_str(), &st) != 0 ||
      !S_ISREG(st.st_mode)) {
    return false;
  }
  *out = {path, static_cast<uint64_t>(st.st_size),
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
          static_cast<uint64_t>(st.st_ino)};
  return true;
}

Status BucketUploads::MakeParents(const std::string& key) {
  const std::string parent = ParentOf(key);
  if (parent.empty()) return Status::Ok();
  {
    std::lock_guard lock(made_mu_);
    if (made_dirs_.count(parent) != 0) return Status::Ok();
  }
  size_t at = 0;
  while (at != std::string::npos) {
    at = parent.find('/', at + 1);
    const std::string part = dir_ + "/" + parent.substr(0, at);
    if (mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) {
      return IoError("cannot create " + part, errno);
    }
  }
  std::lock_guard lock(made_mu_);
  made_dirs_.insert(parent);
  return Status::Ok();
}

ClaimResult BucketUploads::Claim(const Upload& upload, std::string* error) {
  const std::string from = dir_ + "/" + layout::kPending + upload.path;
  if (access(from.c_str(), R_OK) != 0) {
    if (errno == ENOENT) return ClaimResult::kGone;
    *error = "cannot read " + from + ": " + std::strerror(errno);
    return ClaimResult::kFailed;
  }
  const std::string to_key = layout::kQueued + upload.path;
  if (Status s = MakeParents(to_key); !s.ok()) {
    *error = s.detail();
    return ClaimResult::kFailed;
  }
  const std::string to = dir_ + "/" + to_key;
  if (renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0) {
    if (errno == ENOENT) return ClaimResult::kGone;
    // EEXIST: an earlier upload of this path is still in queued/ (its job
    // not yet done); replacing it would hand that job this file.
    *error = errno == EEXIST ? to + " exists: an upload of the same name is still queued"
                             : "cannot claim " + from + ": " + std::strerror(errno);
    return ClaimResult::kFailed;
  }
  return ClaimResult::kClaimed;
}

}  // namespace sluice
