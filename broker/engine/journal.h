// Journal: where the Engine reports every change of state that must outlive
// the process. The Engine and its Queues call it as they change; an
// implementation (Storage) collects the changes and makes them durable when
// the server commits, before any answer leaves. A MemoryJournal records
// nothing, for an Engine that keeps its state in memory only.
//
// Changes that time alone makes to a message's visibility (a delay or
// visibility timeout running out) are not reported: recovery recomputes them
// from the recorded deadlines. What time removes (a message past its
// retention, a deduplication id past its window) is reported.
#ifndef SLUICE_BROKER_ENGINE_JOURNAL_H_
#define SLUICE_BROKER_ENGINE_JOURNAL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "broker/engine/dedup_window.h"
#include "broker/engine/stored_message.h"

namespace sluice {

class Queue;

class Journal {
 public:
  virtual ~Journal() = default;

  // The queue was created or its settings or counters changed.
  virtual void QueueChanged(const Queue& q) = 0;
  // The queue and everything in it are gone.
  virtual void QueueDeleted(const Queue& q) = 0;

  // A message entered the queue: a send (with its body), a dead-letter move or
  // a redrive (its body already stored under its message id).
  virtual void MessageAdded(const Queue& q, const StoredMessage& m, bool new_body) = 0;
  // A message's state changed (received, visibility changed).
  virtual void MessageChanged(const Queue& q, const StoredMessage& m) = 0;
  // A message left the queue; `moved` when it lives on in another queue, so
  // its body stays.
  virtual void MessageRemoved(const Queue& q, const StoredMessage& m, bool moved) = 0;
  // Every message in the queue is about to go (a purge, or the queue's
  // deletion): one change however many there are, reported while the queue
  // still holds them.
  virtual void QueuePurged(const Queue& q) = 0;

  virtual void DedupRemembered(const Queue& q, const std::string& id,
                               const DedupWindow::Entry& entry) = 0;
  // A deduplication id's window ended.
  virtual void DedupForgotten(const Queue& q, const std::string& id) = 0;

  // A message move task started, moved messages or ended, or tasks were
  // forgotten (the journal reads them from the Engine it recovered).
  virtual void MoveTasksChanged() = 0;

  // Whether the journal keeps the bodies of the messages it is told of, so
  // that the queues need not: they then drop a body once MessageAdded has it,
  // and ask for it back with ReadBodies.
  virtual bool KeepsBodies() const = 0;

  // A body to read, of a message whose body the queue does not hold in
  // memory, and where to put it.
  struct BodyRead {
    const StoredMessage* message;
    std::string* body;
  };
  // Reads the bodies of a receive all at once, so that neighbours in storage
  // can share a read. A body that cannot be read is left empty (and logged);
  // bodies are never empty, so the caller can tell.
  virtual void ReadBodies(const std::vector<BodyRead>& reads) = 0;
};

}  // namespace sluice

#endif  // SLUICE_BROKER_ENGINE_JOURNAL_H_
