#include "broker/engine/receive_attempts.h"

#include <utility>

namespace sluice {

const std::vector<ReceiveAttempts::Delivery>* ReceiveAttempts::Find(const std::string& id,
                                                                    Millis now) const {
  auto it = attempts_.find(id);
  if (it == attempts_.end() || it->second.expires_at <= now) return nullptr;
  return &it->second.deliveries;
}

void ReceiveAttempts::Remember(const std::string& id, std::vector<Delivery> deliveries,
                               Millis now) {
  // Attempts are few (one per receive that names one) and short-lived, so a
  // sweep at each new one keeps the map small.
  std::erase_if(attempts_, [now](const auto& entry) { return entry.second.expires_at <= now; });
  attempts_[id] = {now + kWindowMs, std::move(deliveries)};
}

}  // namespace sluice
