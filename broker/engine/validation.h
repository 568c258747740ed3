// Checks of client input that do not depend on queue state: names, batch
// entry ids, message bodies and message attributes. Each returns OK or the
// SQS error a client would get for the same input.
#ifndef SLUICE_BROKER_ENGINE_VALIDATION_H_
#define SLUICE_BROKER_ENGINE_VALIDATION_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "sluice.pb.h"

namespace sluice {

using MessageAttributes = google::protobuf::Map<std::string, pb::MessageAttributeValue>;

// 1-80 characters of [A-Za-z0-9_-]; a FIFO queue's name ends in ".fifo".
Status ValidateQueueName(std::string_view name);
bool IsFifoQueueName(std::string_view name);

// Ids of a batch's entries: 1-10 entries, each id 1-80 characters of
// [A-Za-z0-9_-], distinct within the batch.
template <typename Entries>
Status ValidateBatchEntryIds(const Entries& entries);
Status ValidateBatchEntryId(std::string_view id);
Status ValidateBatchSize(int size);
Status ValidateDistinctIds(const std::vector<std::string_view>& ids);

// The characters SQS accepts in a body: #x9 | #xA | #xD | #x20-#xD7FF |
// #xE000-#xFFFD | #x10000-#x10FFFF, in valid UTF-8; at least one byte.
Status ValidateBody(std::string_view body);

// Up to 10 attributes with valid names, types and values.
Status ValidateMessageAttributes(const MessageAttributes& attributes);

// The bytes a message counts against MaximumMessageSize: its body plus every
// attribute's name, type and value.
int64_t MessageSize(std::string_view body, const MessageAttributes& attributes);

// SQS's MD5OfMessageAttributes: names sorted, each encoded with 4-byte
// big-endian lengths and a transport-type byte. Empty when there are none.
std::string MessageAttributesMd5(const MessageAttributes& attributes);

// FIFO group and deduplication ids: 1-128 printable ASCII characters.
Status ValidateFifoId(std::string_view what, std::string_view id);

template <typename Entries>
Status ValidateBatchEntryIds(const Entries& entries) {
  if (Status s = ValidateBatchSize(entries.size()); !s.ok()) return s;
  std::vector<std::string_view> ids;
  for (const auto& e : entries) {
    if (Status s = ValidateBatchEntryId(e.id()); !s.ok()) return s;
    ids.push_back(e.id());
  }
  return ValidateDistinctIds(ids);
}

}  // namespace sluice

#endif  // SLUICE_BROKER_ENGINE_VALIDATION_H_
