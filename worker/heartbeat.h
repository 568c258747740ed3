// Heartbeat: keeps the messages of running jobs invisible. Job threads
// register a message when they start on it and remove it before they delete it
// or hand it back; a thread of its own extends, every second, the visibility of
// each registered message that has used a third of its timeout, in batches.
//
// Removal waits for an extension in progress, so a message handed back
// (visibility 0) is never hidden again by a late extension.
#ifndef SLUICE_WORKER_HEARTBEAT_H_
#define SLUICE_WORKER_HEARTBEAT_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "client/client.h"
#include "worker/metrics.h"

namespace sluice::worker {

class Heartbeat {
 public:
  Heartbeat(std::string endpoint, std::optional<CurveCredentials> curve, std::string queue_name,
            int visibility_timeout_seconds, WorkerMetrics* metrics);
  ~Heartbeat();  // stops the thread

  // Returns an id for Remove.
  uint64_t Add(const std::string& receipt_handle);
  void Remove(uint64_t id);

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  struct Entry {
    std::string receipt_handle;
    TimePoint extend_at;
  };

  void Loop();
  void ExtendDue(TimePoint now);

  Client client_;
  const std::string queue_name_;
  const int visibility_timeout_seconds_;
  const std::chrono::milliseconds interval_;  // a third of the timeout
  WorkerMetrics* metrics_;

  std::mutex mu_;  // held while extending, see the header comment
  std::condition_variable wake_;
  bool stop_ = false;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Entry> entries_;
  std::thread thread_;
};

}  // namespace sluice::worker

#endif  // SLUICE_WORKER_HEARTBEAT_H_
