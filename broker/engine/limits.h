// The numbers that bound what a client may ask of the broker, each with its
// reason, and the detail of the error a request beyond one of them gets.
// They follow Amazon SQS (../shared/sqs-semantics.md) unless noted.
//
// The details are made from the numbers, so that what a client is told
// cannot drift from what is checked. The error codes are the checks' own
// (the same limit can be a bad parameter or a bad batch entry).
#ifndef SLUICE_BROKER_ENGINE_LIMITS_H_
#define SLUICE_BROKER_ENGINE_LIMITS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace sluice::limits {

// "<parameter> must be between <lo> and <hi>": SQS's words for a request
// parameter out of its range.
inline std::string MustBeBetween(std::string_view parameter, int lo, int hi) {
  return std::string(parameter) + " must be between " + std::to_string(lo) + " and " +
         std::to_string(hi);
}

constexpr int kMaxQueueNameLength = 80;
inline std::string QueueNameLengthDetail() {
  return "queue names are 1-" + std::to_string(kMaxQueueNameLength) + " characters";
}

// ListQueues' MaxResults, and the page it answers when none is given.
constexpr int kMaxListQueuesResults = 1000;
inline std::string ListQueuesResultsDetail() {
  return "MaxResults is at most " + std::to_string(kMaxListQueuesResults);
}

// Tags: SQS's 50 per queue, keys of 1-128 characters, values of up to 256.
constexpr int kMaxTagsPerQueue = 50;
constexpr int kMaxTagKeyLength = 128;
constexpr int kMaxTagValueLength = 256;

// Batches: SQS's 10 entries, each id up to 80 characters.
constexpr int kMaxBatchEntries = 10;
constexpr int kMaxBatchEntryIdLength = 80;
inline std::string BatchEntriesDetail(int entries) {
  return "a batch holds at most " + std::to_string(kMaxBatchEntries) + " entries, got " +
         std::to_string(entries);
}
inline std::string BatchEntryIdDetail(std::string_view id) {
  return "batch entry id '" + std::string(id) + "' must be 1-" +
         std::to_string(kMaxBatchEntryIdLength) + " characters of A-Za-z0-9_-";
}

// Message size: SQS raised its cap from 256 KiB to 1 MiB; the size of a
// message counts its body and its attributes' names, types and values. A
// queue's cap (MaximumMessageSize) lies between the two, and bounds a whole
// batch as well as each message.
constexpr int kMinMessageSizeCap = 1024;
constexpr int kMaxMessageSizeCap = 1 << 20;
inline std::string MessageSizeDetail(int64_t size, int queue_cap) {
  return "the message is " + std::to_string(size) + " bytes; the queue's MaximumMessageSize is " +
         std::to_string(queue_cap);
}
inline std::string BatchSizeDetail(int64_t total, int queue_cap) {
  return "the batch's messages total " + std::to_string(total) +
         " bytes; the queue's MaximumMessageSize is " + std::to_string(queue_cap);
}

constexpr int kMaxMessageAttributes = 10;
constexpr int kMaxMessageAttributeNameLength = 256;
constexpr int kMaxMessageAttributeTypeLength = 256;
inline std::string MessageAttributesDetail() {
  return "a message holds at most " + std::to_string(kMaxMessageAttributes) + " message attributes";
}
inline std::string MessageAttributeNameLengthDetail() {
  return "message attribute names are 1-" + std::to_string(kMaxMessageAttributeNameLength) +
         " characters";
}

constexpr int kMaxReceiveMessages = 10;
inline std::string ReceiveMessagesDetail() {
  return MustBeBetween("MaxNumberOfMessages", 1, kMaxReceiveMessages);
}

constexpr int kMaxWaitTimeSeconds = 20;
inline std::string WaitTimeDetail() {
  return MustBeBetween("WaitTimeSeconds", 0, kMaxWaitTimeSeconds);
}

// A visibility timeout, and how long a message may stay hidden after its
// receive however often its timeout is changed.
constexpr int kMaxVisibilityTimeoutSeconds = 43'200;  // 12 hours
static_assert(kMaxVisibilityTimeoutSeconds % 3600 == 0, "the detail counts whole hours");
inline std::string VisibilityTimeoutDetail() {
  return MustBeBetween("VisibilityTimeout", 0, kMaxVisibilityTimeoutSeconds);
}
inline std::string InvisibleSinceReceiveDetail() {
  return "a message may stay invisible at most " +
         std::to_string(kMaxVisibilityTimeoutSeconds / 3600) + " hours after it was received";
}

constexpr int kMaxDelaySeconds = 900;
inline std::string DelayDetail() { return MustBeBetween("DelaySeconds", 0, kMaxDelaySeconds); }

// Queue attributes whose ranges queue_config.cc reports itself.
constexpr int kMinRetentionSeconds = 60;
constexpr int kMaxRetentionSeconds = 1'209'600;  // 14 days
constexpr int kMaxReceiveCountLimit = 1000;

// FIFO: group and deduplication ids, and the window in which a
// deduplication id suppresses a second send.
constexpr int kMaxFifoIdLength = 128;
constexpr Millis kDeduplicationWindowMs = 5 * 60 * 1000;
inline std::string FifoIdLengthDetail(std::string_view id_name) {
  return std::string(id_name) + " must be 1-" + std::to_string(kMaxFifoIdLength) + " characters";
}

// Queues a broker holds at most; the broker's --max-queues flag. Each queue
// costs memory and a metrics series, so a client must not create them
// without bound.
constexpr size_t kDefaultMaxQueues = 10'000;

// SQS's in-flight limit per queue; the broker's --max-inflight flag.
constexpr int kDefaultInflightLimit = 120'000;
inline std::string InflightDetail(size_t in_flight) {
  return "the queue has " + std::to_string(in_flight) + " messages in flight, its limit";
}

// Message move tasks: SQS caps the rate at 500 messages/s (0 means no cap),
// and lists at most 10 tasks of a source. Without a rate, a task moves this
// many messages per tick so a huge DLQ does not stall the broker's loop.
constexpr int kMaxMoveTaskRate = 500;
constexpr int kMaxMoveTaskResults = 10;
constexpr int kMoveTaskChunk = 1000;
inline std::string MoveTaskRateDetail() {
  return MustBeBetween("MaxNumberOfMessagesPerSecond", 1, kMaxMoveTaskRate);
}
inline std::string MoveTaskResultsDetail() {
  return MustBeBetween("MaxResults", 1, kMaxMoveTaskResults);
}

// A frame may hold a batch at the message size cap plus framing; anything
// larger is refused by ZeroMQ itself (ZMQ_MAXMSGSIZE) before it is buffered.
constexpr int64_t kMaxFrameBytes = 4 * kMaxMessageSizeCap;

}  // namespace sluice::limits

#endif  // SLUICE_BROKER_ENGINE_LIMITS_H_
