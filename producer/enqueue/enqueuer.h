// Enqueuer: sends the jobs of claimed uploads, in batches of up to 10, from
// several sender threads at once (each with its own broker connection, so
// their fsyncs are shared by the broker's group commit), and appends each
// batch to the sent journal once the broker has acknowledged it.
//
// On a FIFO queue an upload goes to the sender its message group hashes to,
// so a group's jobs are sent in the order they were submitted.
//
// When the broker cannot be reached, a sender either gives up (a one-shot
// scan: the uploads stay in queued/, unjournaled, and the next run sends
// them) or, with `retry_forever` (--watch), keeps its batch and retries with
// backoff until the broker answers or Stop() is called. Either way nothing is
// lost.
#ifndef SLUICE_PRODUCER_ENQUEUE_ENQUEUER_H_
#define SLUICE_PRODUCER_ENQUEUE_ENQUEUER_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "producer/enqueue/job_message.h"
#include "producer/enqueue/sent_log.h"
#include "producer/enqueue/uploads.h"

namespace sluice {

struct EnqueuerOptions {
  std::string endpoint;
  ClientOptions client_options;
  std::string queue_name;
  JobTemplate job;
  int senders = 8;
  bool retry_forever = false;
};

struct EnqueueCounts {
  uint64_t enqueued = 0;
  uint64_t failed = 0;
};

class Enqueuer {
 public:
  Enqueuer(EnqueuerOptions options, SentLog* journal);
  ~Enqueuer();  // Finish()

  // Queues a claimed upload for sending.
  void Submit(const Upload& upload);
  // Sends everything submitted (or gives up on it), then stops the senders.
  void Finish();
  // Makes retrying senders give up; what they hold is left unjournaled.
  void Stop();

  EnqueueCounts counts() const;
  // The first error that stopped a sender (the broker unreachable, the queue
  // gone), or OK.
  Status fatal() const;
  // Per-upload failures, "path: reason", for the summary.
  std::vector<std::string> failures() const;

 private:
  struct Sender {
    std::deque<Upload> queue;
    std::condition_variable wake;  // so that a Submit wakes one sender, not all
    std::thread thread;
  };

  void SenderLoop(Sender* sender);
  // Sends one batch; false when the sender must stop.
  bool SendBatch(Sender* sender, Client& client, const std::vector<Upload>& batch);
  // Wakes every sender (to finish or stop); mu_ held.
  void WakeAll();
  void Fail(const Upload& upload, const std::string& why);

  const EnqueuerOptions options_;
  SentLog* journal_;
  std::vector<std::unique_ptr<Sender>> senders_;
  uint64_t next_sender_ = 0;

  mutable std::mutex mu_;
  bool finishing_ = false;
  std::atomic<bool> stop_{false};
  EnqueueCounts counts_;
  Status fatal_;
  std::vector<std::string> failures_;
};

}  // namespace sluice

#endif  // SLUICE_PRODUCER_ENQUEUE_ENQUEUER_H_
