#include "producer/enqueue/s3_sent_journal.h"

#include <spdlog/spdlog.h>

#include <cinttypes>
#include <cstdio>
#include <random>

#include "common/bucket_layout.h"
#include "producer/enqueue/journal_path.h"

namespace sluice {
namespace {

constexpr size_t kMaxBuffered = 1000;
constexpr auto kMaxBufferAge = std::chrono::seconds(1);
constexpr int64_t kCompactAgeMs = 10 * 60 * 1000;
constexpr std::string_view kSuffix = ".journal";
// A merged segment of a million waiting uploads is about 100 MB.
constexpr uint64_t kMaxSegmentBytes = 1ull << 30;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status ToStatus(const s3::Error& error) { return Status(StatusCode::kIOError, error.message); }

}  // namespace

std::string S3SentJournal::Entry(const Upload& upload) {
  std::string etag = upload.etag;
  for (char& c : etag) {
    if (c == ' ' || c == '\n' || c == '\\') c = '_';  // never in an S3 ETag; kept one word
  }
  char head[64];
  std::snprintf(head, sizeof head, "%" PRIu64 " %" PRId64 " ", upload.size, upload.mtime_ns);
  std::string entry = head + (etag.empty() ? "-" : etag) + " ";
  return entry + EscapeJournalPath(upload.path);
}

bool S3SentJournal::ParseEntry(const std::string& entry, Upload* upload) {
  int consumed = 0;
  char etag[256];
  // The path starts after exactly one space: it may itself start with one.
  if (std::sscanf(entry.c_str(), "%" SCNu64 " %" SCNd64 " %255s%n", &upload->size,
                  &upload->mtime_ns, etag, &consumed) != 3 ||
      static_cast<size_t>(consumed) >= entry.size() || entry[consumed] != ' ') {
    return false;
  }
  ++consumed;
  upload->etag = std::string(etag) == "-" ? "" : etag;
  upload->inode = 0;
  upload->path = UnescapeJournalPath(std::string_view(entry).substr(consumed));
  return !upload->path.empty();
}

Result<std::unique_ptr<S3SentJournal>, s3::Error> S3SentJournal::Open(s3::Client* client,
                                                                      std::string bucket) {
  std::random_device random;
  char run[64];
  std::snprintf(run, sizeof run, "%013" PRId64 "-%08x%08x", NowMs(), random(), random());
  std::unique_ptr<S3SentJournal> journal(new S3SentJournal(client, std::move(bucket), run));
  const int64_t now = NowMs();
  std::string token;
  do {
    auto page = client->List(journal->bucket_, layout::kSentJournals, token);
    if (!page.ok()) return page.error();
    for (const s3::ObjectInfo& object : page->objects) {
      if (!object.key.ends_with(kSuffix)) continue;
      auto segment = client->Get(journal->bucket_, object.key, kMaxSegmentBytes);
      if (!segment.ok()) {
        // Compacted away by another producer since the listing: its entries
        // are in that producer's merged segment, which this listing has too.
        if (segment.error().kind == s3::ErrorKind::kNotFound) continue;
        return segment.error();
      }
      Segment read{object.key, JournalLines(segment->data),
                   object.last_modified_ms != 0 && now - object.last_modified_ms > kCompactAgeMs};
      for (const std::string& entry : read.entries) journal->sent_.insert(entry);
      journal->read_.push_back(std::move(read));
    }
    token = std::move(page->next_continuation_token);
  } while (!token.empty());
  return journal;
}

S3SentJournal::~S3SentJournal() {
  if (Status s = Flush(); !s.ok()) {
    spdlog::warn("event=journal_failed error=\"{}\" note=\"sent again at the next start\"",
                 s.detail());
  }
}

bool S3SentJournal::Sent(const Upload& upload) const { return sent_.count(Entry(upload)) != 0; }

Status S3SentJournal::PutSegment(const std::string& lines) {
  char name[32];
  std::snprintf(name, sizeof name, "-%06" PRIu64, next_segment_++);
  const std::string key = std::string(layout::kSentJournals) + run_ + name + std::string(kSuffix);
  auto put = client_->Put(bucket_, key, lines, "text/plain");
  if (!put.ok()) return ToStatus(put.error());
  return Status::Ok();
}

Status S3SentJournal::Append(const std::vector<Upload>& uploads) {
  std::lock_guard lock(mu_);
  if (buffered_ == 0) oldest_ = std::chrono::steady_clock::now();
  for (const Upload& upload : uploads) buffer_ += Entry(upload) + '\n';
  buffered_ += uploads.size();
  if (buffered_ < kMaxBuffered && std::chrono::steady_clock::now() - oldest_ < kMaxBufferAge) {
    return Status::Ok();
  }
  return PutBuffer();
}

Status S3SentJournal::Flush() {
  std::lock_guard lock(mu_);
  if (buffered_ == 0) return Status::Ok();
  return PutBuffer();
}

Status S3SentJournal::PutBuffer() {
  Status s = PutSegment(buffer_);
  if (s.ok()) {
    buffer_.clear();
    buffered_ = 0;
  }
  return s;
}

Status S3SentJournal::Compact(const std::vector<Upload>& pending) {
  std::unordered_set<std::string> waiting;
  for (const Upload& upload : pending) waiting.insert(Entry(upload));
  std::string kept;
  std::vector<std::string> merged;
  size_t dropped = 0;
  for (const Segment& segment : read_) {
    if (!segment.old) continue;
    merged.push_back(segment.key);
    for (const std::string& entry : segment.entries) {
      if (waiting.count(entry) != 0) {
        kept += entry + '\n';
      } else {
        ++dropped;
      }
    }
  }
  // One old segment whose uploads all still wait: rewriting it gains nothing.
  if (merged.empty() || (merged.size() == 1 && dropped == 0)) return Status::Ok();
  {
    std::lock_guard lock(mu_);
    if (!kept.empty()) {
      if (Status s = PutSegment(kept); !s.ok()) return s;
    }
  }
  for (const std::string& key : merged) {
    auto deleted = client_->Delete(bucket_, key);
    if (!deleted.ok()) return ToStatus(deleted.error());
  }
  spdlog::info("event=journal_compacted segments={} entries_dropped={} kept_bytes={}",
               merged.size(), dropped, kept.size());
  return Status::Ok();
}

}  // namespace sluice
