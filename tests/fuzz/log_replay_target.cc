// Fuzz target: the write-ahead log's recovery from arbitrary bytes. The input
// is a flags byte and then the bytes of log segment 1, written into a data
// directory of its own; Storage::Open replays it and Storage::Recover hands
// what it holds to an Engine, whose queues are then received from (which
// reads bodies back from where the records say they are). Damage must come
// back as a Status, never as a crash, and a log that recovered must recover
// again after the broker wrote to it.
//
// Flags:
//   bit 0  repair each batch's length, record count and checksums before
//          writing, so that mutations reach the records' decoding rather than
//          die at a CRC (the seeds are real segments, written by a broker);
//   bit 1  an empty segment 2 follows, so that segment 1 is not the last and
//          damage in it is corruption, never a torn tail to cut off.
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "broker/engine/engine.h"
#include "broker/storage/coding.h"
#include "broker/storage/crc32c.h"
#include "broker/storage/segment_log.h"
#include "broker/storage/storage.h"
#include "common/clock.h"
#include "tests/fuzz/no_disk_waits.h"
#include "tests/fuzz/oracle.h"
#include "tests/fuzz/targets.h"

namespace sluice::fuzz {
namespace {

namespace fs = std::filesystem;

void WriteFile(const fs::path& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A directory of this process's own under $TMPDIR, removed at exit, and the
// FORMAT file that a new log gets (asked of SegmentLog, not copied here, so
// that a new format cannot leave every input refused unnoticed).
struct Scratch {
  fs::path dir;
  std::string format;
  NoDiskWaits files;

  Scratch() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/sluice-fuzz-log-XXXXXX";
    Check(::mkdtemp(pattern.data()) != nullptr, "a scratch directory is made");
    dir = pattern;
    {
      auto log = SegmentLog::Open((dir / "log").string(), &files);
      Check(log.ok(), "an empty log opens");
    }
    format = ReadFile(dir / "log" / "FORMAT");
    Check(!format.empty(), "a new log has a FORMAT file");
  }
  ~Scratch() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
  static Scratch& Get() {
    static Scratch scratch;
    return scratch;
  }
};

// Gives every batch a length that fits, the number of records it holds and
// the checksums of what it holds, keeping the rest (the synced offsets, the
// records' bytes) as they are.
void RepairBatches(std::string* segment) {
  constexpr size_t kHeader = SegmentLog::kBatchHeaderBytes;
  constexpr size_t kRecordHeader = SegmentLog::kRecordHeaderBytes;
  char* p = segment->data();
  size_t at = 0;
  while (segment->size() - at >= kHeader) {
    size_t end =
        at + kHeader + std::min<size_t>(DecodeFixed32(p + at + 4), segment->size() - at - kHeader);
    uint32_t records = 0;
    for (size_t r = at + kHeader; r < end; ++records) {
      if (end - r < kRecordHeader) {
        end = r;  // the rest starts the next batch
        break;
      }
      const uint32_t size = std::min<size_t>(DecodeFixed32(p + r), end - r - kRecordHeader);
      EncodeFixed32(p + r, size);
      r += kRecordHeader + size;
    }
    const size_t length = end - at - kHeader;
    EncodeFixed32(p + at + 4, static_cast<uint32_t>(length));
    EncodeFixed32(p + at + 8, records);
    EncodeFixed32(p + at + 12, Crc32c(p + at + kHeader, length));
    EncodeFixed32(p + at, Crc32c(p + at + 4, kHeader - 4));
    at = end;
  }
}

struct Recovered {
  std::unique_ptr<Storage> storage;
  std::unique_ptr<Engine> engine;
  Status status;
};

Recovered Recover(const Clock& clock) {
  Scratch& scratch = Scratch::Get();
  StorageOptions options;
  options.fsync = FsyncMode::kNever;
  options.free_space = [] { return std::optional<uint64_t>(uint64_t{1} << 40); };
  options.files = &scratch.files;
  Recovered r;
  auto storage = Storage::Open(scratch.dir.string(), options);
  if (!storage.ok()) {
    r.status = storage.status();
    return r;
  }
  r.storage = std::move(*storage);
  EngineOptions engine_options;
  engine_options.receipt_secret = r.storage->receipt_secret();
  engine_options.journal = r.storage.get();
  r.engine = std::make_unique<Engine>(&clock, engine_options);
  r.status = r.storage->Recover(r.engine.get());
  return r;
}

std::vector<std::string> QueueNames(const Engine& engine) {
  std::vector<std::string> names;
  engine.ForEachQueue([&](const Queue& q) { names.push_back(q.name()); });
  return names;
}

}  // namespace

int FuzzLogReplay(const uint8_t* data, size_t size) {
  static const bool quiet = (QuietLogs(), true);
  (void)quiet;
  if (size == 0) return 0;
  Scratch& scratch = Scratch::Get();
  const uint8_t flags = data[0];
  std::string segment(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (flags & 1) RepairBatches(&segment);

  const fs::path log = scratch.dir / "log";
  fs::remove_all(log);
  fs::create_directories(log);
  WriteFile(log / "FORMAT", scratch.format);
  WriteFile(log / "0000000001.seg", segment);
  if (flags & 2) WriteFile(log / "0000000002.seg", "");

  FakeClock clock;
  size_t queues = 0;
  {
    Recovered first = Recover(clock);
    if (!first.status.ok()) return 0;
    // What a restarted broker does first: serve receives (bodies are read
    // back from the log) and commit what they changed.
    for (const std::string& name : QueueNames(*first.engine)) {
      pb::ReceiveMessageRequest req;
      req.set_queue_name(name);
      req.set_max_number_of_messages(10);
      req.add_attribute_names("All");
      req.add_message_attribute_names("All");
      pb::ReceiveMessageResponse resp;
      (void)first.engine->ReceiveMessage(req, &resp);
      ++queues;
    }
    first.engine->Tick();
    Check(first.storage->Commit().ok(), "a recovered log takes a commit");
    first.engine.reset();
  }
  clock.Advance(1000);
  Recovered second = Recover(clock);
  if (!second.status.ok()) {
    std::fprintf(stderr, "second recovery: %s\n", second.status.ToString().c_str());
  }
  Check(second.status.ok(), "a log that recovered recovers again");
  Check(QueueNames(*second.engine).size() == queues, "a second recovery finds the same queues");
  second.engine.reset();
  return 0;
}

}  // namespace sluice::fuzz
