// Receipt handles: what a receive gives the consumer to delete the message or
// change its visibility later.
//
// A handle names the queue's incarnation, the message's position in the queue
// and which receive issued it, sealed with a keyed check so that a mistyped or
// forged handle is told apart from one that has gone stale. Every receive issues
// a new handle because every receive has a new receipt number.
#ifndef SLUICE_BROKER_ENGINE_RECEIPT_HANDLE_H_
#define SLUICE_BROKER_ENGINE_RECEIPT_HANDLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice {

struct ReceiptHandle {
  uint64_t queue_incarnation = 0;  // differs between a queue and one re-created by its name
  uint64_t message_seq = 0;
  uint64_t receipt_seq = 0;
};

class ReceiptHandleCodec {
 public:
  explicit ReceiptHandleCodec(uint64_t secret) : secret_(secret) {}

  std::string Encode(const ReceiptHandle& handle) const;
  // nullopt when the text is not a handle this broker issued.
  std::optional<ReceiptHandle> Decode(std::string_view text) const;

 private:
  uint64_t Seal(const ReceiptHandle& handle) const;
  uint64_t secret_;
};

}  // namespace sluice

#endif  // SLUICE_BROKER_ENGINE_RECEIPT_HANDLE_H_
