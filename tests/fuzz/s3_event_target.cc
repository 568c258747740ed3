// Fuzz target: S3 event notification bodies, wherever Sluice reads one. The
// input is a body as a pusher POSTs it or a message carries it, read by:
//   - s3::ParseEvent, the parser itself (common/s3/event.h);
//   - the broker's S3 events endpoint, which turns it into batches
//     (S3EventToBatches), on a standard and on a FIFO queue;
//   - the worker's ParseJobs, which takes either a ResizeJob or an S3 event,
//     and the keys it derives for each job.
// A body is untrusted: nothing may throw or crash, batches hold 1-10
// messages, and a key the worker may read yields keys it may write.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "broker/http/s3_events.h"
#include "common/s3/event.h"
#include "tests/fuzz/oracle.h"
#include "tests/fuzz/targets.h"
#include "worker/job.h"
#include "worker/store/directory_store.h"

namespace sluice::fuzz {
namespace {

// Keys this far under the store's limits (1024 bytes, 255 a component) have
// room for what the worker adds to them ("-10000.webp", a longer prefix).
constexpr size_t kKeyRoom = 1024 - 64;
constexpr size_t kComponentRoom = 255 - 32;

bool HasRoom(std::string_view key) {
  if (key.size() > kKeyRoom) return false;
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    if (end - start > kComponentRoom) return false;
    start = end + 1;
  }
  return true;
}

void ParseAsEvent(std::string_view body) {
  const nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return;
  (void)s3::IsEvent(doc);
  auto event = s3::ParseEvent(doc);
  if (!event.ok()) return;
  for (const s3::EventRecord& record : event->created) {
    Check(s3::DeduplicationId(record).size() <= 128, "a deduplication id fits SQS's 128 bytes");
  }
}

void EnqueueAsBroker(std::string_view body) {
  for (std::string_view queue : {"q", "f.fifo"}) {
    auto batches = http::S3EventToBatches(queue, body);
    if (!batches.ok()) continue;
    size_t messages = 0;
    for (const pb::SendMessageBatchRequest& batch : batches->batches) {
      Check(batch.entries_size() > 0 && batch.entries_size() <= 10, "a batch holds 1-10 messages");
      messages += static_cast<size_t>(batch.entries_size());
    }
    Check(messages == batches->enqueue, "the batches hold every message counted");
  }
}

void ReadAsWorker(std::string_view body) {
  const worker::JobDefaults defaults;
  auto parsed = worker::ParseJobs(body, defaults);
  if (!parsed.ok()) return;
  for (const worker::Job& job : parsed->jobs) {
    Check(!job.sizes.empty() && job.sizes.size() <= worker::kMaxSizesPerJob, "a job has sizes");
    for (size_t i = 0; i < job.sizes.size(); ++i) {
      Check(job.sizes[i] >= 1 && job.sizes[i] <= worker::kMaxSize, "a size is in range");
      Check(i == 0 || job.sizes[i] < job.sizes[i - 1], "sizes are largest first, once each");
    }
    const bool readable = worker::IsValidKey(job.key);
    for (const std::string& key : worker::SourceKeys(job.key, defaults)) {
      Check(!readable || !HasRoom(job.key) || worker::IsValidKey(key),
            "a readable key is looked for at valid keys");
    }
    const std::string done = worker::DoneKey(job.key, defaults);
    Check(!readable || !HasRoom(job.key) || worker::IsValidKey(done),
          "a readable key is moved to a valid key");
    const std::string output = worker::OutputKey(
        job, defaults, job.sizes.front(), worker::ImageFormat::kJpeg, worker::ImageFormat::kWebp);
    Check(!readable || !HasRoom(job.key) || job.output_prefix != defaults.output_prefix ||
              worker::IsValidKey(output),
          "a readable key's outputs go to valid keys");
    (void)worker::IsValidBucketName(job.bucket);
  }
}

}  // namespace

int FuzzS3Event(const uint8_t* data, size_t size) {
  static const bool quiet = (QuietLogs(), true);
  (void)quiet;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  ParseAsEvent(body);
  EnqueueAsBroker(body);
  ReadAsWorker(body);
  (void)s3::DecodeKey(body);
  return 0;
}

}  // namespace sluice::fuzz
