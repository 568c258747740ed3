// StoredMessage: one message as a queue holds it, with everything SQS reports
// about it and the state that decides when it can be received.
#ifndef SLUICE_BROKER_ENGINE_STORED_MESSAGE_H_
#define SLUICE_BROKER_ENGINE_STORED_MESSAGE_H_

#include <cstdint>
#include <string>

#include "common/clock.h"
#include "sluice.pb.h"

namespace sluice {

enum class MessageState {
  kDelayed,   // sent with a delay that has not run out
  kVisible,   // can be received
  kInFlight,  // received; invisible until its visibility timeout runs out
};

struct StoredMessage {
  uint64_t seq = 0;  // position in its queue, unique there; receipt handles name it
  std::string message_id;
  std::string body;
  std::string md5_of_body;
  google::protobuf::Map<std::string, pb::MessageAttributeValue> attributes;
  std::string md5_of_attributes;

  Millis sent_at = 0;      // SentTimestamp; kept across dead-letter moves
  Millis enqueued_at = 0;  // start of the retention period
  Millis first_received_at = 0;
  uint32_t receive_count = 0;

  MessageState state = MessageState::kVisible;
  Millis available_at = 0;   // when a delayed or in-flight message becomes visible
  Millis received_at = 0;    // the latest receive; bounds visibility extensions
  uint64_t receipt_seq = 0;  // which receive the latest receipt handle belongs to

  // FIFO only.
  std::string group_id;
  std::string deduplication_id;
  uint64_t sequence_number = 0;

  // Set on a message in a dead-letter queue: the queue it came from.
  std::string dead_letter_source;

  // Where a journal keeps the body, in its own terms, and the body's size;
  // carried through dead-letter moves and redrives. Mutable because the
  // journal may move a body (compaction) without changing the message.
  mutable uint64_t body_ref = 0;
  mutable uint32_t body_size = 0;
};

}  // namespace sluice

#endif  // SLUICE_BROKER_ENGINE_STORED_MESSAGE_H_
