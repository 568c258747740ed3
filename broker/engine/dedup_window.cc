#include "broker/engine/dedup_window.h"

namespace sluice {

const DedupWindow::Entry* DedupWindow::Find(const std::string& id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

const DedupWindow::Entry& DedupWindow::Remember(const std::string& id, std::string message_id,
                                                uint64_t sequence_number, Millis now) {
  const Millis expires_at = now + window_ms_;
  Entry& e = entries_[id];
  e = Entry{std::move(message_id), sequence_number, expires_at};
  by_expiry_.emplace(expires_at, id);
  return e;
}

void DedupWindow::Restore(const std::string& id, const Entry& entry) {
  entries_[id] = entry;
  by_expiry_.emplace(entry.expires_at, id);
}

void DedupWindow::Expire(Millis now, const std::function<void(const std::string&)>& forgotten) {
  while (!by_expiry_.empty() && by_expiry_.begin()->first <= now) {
    auto it = entries_.find(by_expiry_.begin()->second);
    // Only forget the entry this record was made for; a later Remember of
    // the same id (after it expired) has a later expiry.
    if (it != entries_.end() && it->second.expires_at == by_expiry_.begin()->first) {
      forgotten(it->first);
      entries_.erase(it);
    }
    by_expiry_.erase(by_expiry_.begin());
  }
}

}  // namespace sluice
