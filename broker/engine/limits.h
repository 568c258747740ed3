// The numbers that bound what a client may ask of the broker, each with its
// reason. They follow Amazon SQS (../shared/sqs-semantics.md) unless noted.
#ifndef SLUICE_BROKER_ENGINE_LIMITS_H_
#define SLUICE_BROKER_ENGINE_LIMITS_H_

#include <cstdint>

#include "common/clock.h"

namespace sluice::limits {

constexpr int kMaxQueueNameLength = 80;
constexpr int kMaxListQueuesResults = 1000;

// Batches: SQS's 10 entries, each id up to 80 characters.
constexpr int kMaxBatchEntries = 10;
constexpr int kMaxBatchEntryIdLength = 80;

// Message size: SQS raised its cap from 256 KiB to 1 MiB; the size of a
// message counts its body and its attributes' names, types and values.
constexpr int kMinMessageSizeCap = 1024;
constexpr int kMaxMessageSizeCap = 1 << 20;
constexpr int kMaxMessageAttributes = 10;
constexpr int kMaxMessageAttributeNameLength = 256;
constexpr int kMaxMessageAttributeTypeLength = 256;

constexpr int kMaxReceiveMessages = 10;
constexpr int kMaxWaitTimeSeconds = 20;
constexpr int kMaxVisibilityTimeoutSeconds = 43'200;  // 12 hours
constexpr int kMaxDelaySeconds = 900;
constexpr int kMinRetentionSeconds = 60;
constexpr int kMaxRetentionSeconds = 1'209'600;  // 14 days
constexpr int kMaxReceiveCountLimit = 1000;

// FIFO: group and deduplication ids, and the window in which a
// deduplication id suppresses a second send.
constexpr int kMaxFifoIdLength = 128;
constexpr Millis kDeduplicationWindowMs = 5 * 60 * 1000;

// SQS's in-flight limit per queue; the broker's --max-inflight flag.
constexpr int kDefaultInflightLimit = 120'000;

// Message move tasks: SQS caps the rate at 500 messages/s. Without a rate,
// a task moves this many messages per tick so a huge DLQ does not stall the
// broker's loop.
constexpr int kMaxMoveTaskRate = 500;
constexpr int kMoveTaskChunk = 1000;

// A frame may hold a batch at the message size cap plus framing; anything
// larger is refused by ZeroMQ itself (ZMQ_MAXMSGSIZE) before it is buffered.
constexpr int64_t kMaxFrameBytes = 4 * kMaxMessageSizeCap;

}  // namespace sluice::limits

#endif  // SLUICE_BROKER_ENGINE_LIMITS_H_
