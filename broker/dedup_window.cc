#include "broker/dedup_window.h"

namespace sluice {

const DedupWindow::Entry* DedupWindow::Find(const std::string& id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

void DedupWindow::Remember(const std::string& id, std::string message_id, uint64_t sequence_number,
                           Millis now) {
  const Millis expires_at = now + window_ms_;
  entries_[id] = Entry{std::move(message_id), sequence_number, expires_at};
  by_expiry_.emplace_back(expires_at, id);
}

void DedupWindow::Expire(Millis now) {
  while (!by_expiry_.empty() && by_expiry_.front().first <= now) {
    auto it = entries_.find(by_expiry_.front().second);
    // Only forget the entry this record was made for; a later Remember of
    // the same id (after it expired) has a later expiry.
    if (it != entries_.end() && it->second.expires_at == by_expiry_.front().first) {
      entries_.erase(it);
    }
    by_expiry_.pop_front();
  }
}

}  // namespace sluice
