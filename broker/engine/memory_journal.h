// MemoryJournal: the Journal of an Engine that keeps its state in memory
// only, the one an Engine uses when given none. It records nothing, and it
// keeps no bodies: they stay in the queues, so there is never one to read.
#ifndef SLUICE_BROKER_ENGINE_MEMORY_JOURNAL_H_
#define SLUICE_BROKER_ENGINE_MEMORY_JOURNAL_H_

#include <string>
#include <vector>

#include "broker/engine/journal.h"

namespace sluice {

class MemoryJournal final : public Journal {
 public:
  void QueueChanged(const Queue&) override {}
  void QueueDeleted(const Queue&) override {}
  void MessageAdded(const Queue&, const StoredMessage&, bool) override {}
  void MessageChanged(const Queue&, const StoredMessage&) override {}
  void MessageRemoved(const Queue&, const StoredMessage&, bool) override {}
  void QueuePurged(const Queue&) override {}
  void DedupRemembered(const Queue&, const std::string&, const DedupWindow::Entry&) override {}
  void DedupForgotten(const Queue&, const std::string&) override {}
  void MoveTasksChanged() override {}
  bool KeepsBodies() const override { return false; }
  void ReadBodies(const std::vector<BodyRead>&) override {}
};

}  // namespace sluice

#endif  // SLUICE_BROKER_ENGINE_MEMORY_JOURNAL_H_
