#include "broker/http/s3_events.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "broker/http/form.h"
#include "common/s3/event.h"

namespace sluice::http {
namespace {

constexpr size_t kBatchSize = 10;

bool SameSecret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

Result<S3EventBatches, std::string> S3EventToBatches(std::string_view queue,
                                                     std::string_view body) {
  const nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !s3::IsEvent(doc)) {
    return std::string("the body is not an S3 event notification (no Records)");
  }
  auto event = s3::ParseEvent(doc);
  if (!event.ok()) return event.error();
  S3EventBatches out;
  out.test_event = event->test_event;
  out.skipped = event->skipped.size();
  if (event->created.empty()) return out;
  const nlohmann::json& records = doc["Records"];
  const bool fifo = queue.ends_with(".fifo");
  for (const s3::EventRecord& created : event->created) {
    if (out.batches.empty() || out.batches.back().entries_size() == kBatchSize) {
      out.batches.emplace_back().set_queue_name(std::string(queue));
    }
    pb::SendMessageBatchRequest& batch = out.batches.back();
    pb::SendMessageEntry* entry = batch.add_entries();
    entry->set_id(std::to_string(batch.entries_size() - 1));
    // The record as sent, alone in an event of its own.
    entry->set_body(
        nlohmann::json{{"Records", nlohmann::json::array({records[created.index]})}}.dump(
            -1, ' ', false, nlohmann::json::error_handler_t::replace));
    entry->set_message_deduplication_id(s3::DeduplicationId(created));
    if (fifo) entry->set_message_group_id(created.bucket);
    ++out.enqueue;
  }
  return out;
}

std::string S3EventsQueue(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  if (!path.starts_with(kS3EventsPath)) return "";
  path.remove_prefix(kS3EventsPath.size());
  if (path.empty() || path.find('/') != std::string_view::npos) return "";
  Result<std::string> name = PercentDecode(path, false);
  return name.ok() ? *name : "";
}

bool S3EventsTokenMatches(std::string_view token, std::string_view authorization,
                          std::string_view target) {
  if (token.empty()) return false;
  // The scheme's name is case-insensitive (RFC 9110).
  constexpr std::string_view kBearer = "bearer ";
  if (authorization.size() > kBearer.size() &&
      std::equal(kBearer.begin(), kBearer.end(), authorization.begin(),
                 [](char a, char b) { return a == (b >= 'A' && b <= 'Z' ? b - 'A' + 'a' : b); })) {
    return SameSecret(authorization.substr(kBearer.size()), token);
  }
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return false;
  Result<FormParams> params = ParseForm(target.substr(q + 1));
  if (!params.ok()) return false;
  for (const auto& [name, value] : *params) {
    if (name == "token") return SameSecret(value, token);
  }
  return false;
}

}  // namespace sluice::http
