// Worker: the job threads of one sluice-worker process and their life cycle.
//
// Each of `concurrency` threads has its own broker connection and loops:
// receive one message (long poll), run its jobs, then delete it (done),
// hand it back with a backoff (a transient failure), or dead-letter it (a
// permanent one). A Heartbeat keeps running jobs' messages invisible.
//
// Drain(grace) is what SIGTERM does: stop receiving, let running jobs finish
// for up to `grace`, then cancel the rest and hand their messages back with
// visibility 0 so that another worker takes them at once.
#ifndef SLUICE_WORKER_WORKER_H_
#define SLUICE_WORKER_WORKER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "worker/heartbeat.h"
#include "worker/job_runner.h"
#include "worker/metrics.h"

namespace sluice::worker {

struct WorkerOptions {
  std::string endpoint;
  std::optional<CurveCredentials> curve = std::nullopt;  // the broker's and this worker's keys
  std::string queue_name;
  int concurrency = 1;
  int visibility_timeout_seconds = 60;
  std::chrono::seconds job_timeout{120};
};

class Worker {
 public:
  Worker(WorkerOptions options, const JobRunner* runner, WorkerMetrics* metrics);
  ~Worker();  // drains with no grace if Drain was not called

  void Start();
  // Returns once every job thread has ended.
  void Drain(std::chrono::milliseconds grace);

 private:
  void JobLoop(int slot);
  // One job's outcome, logged once the message's fate is known.
  struct JobLogLine {
    std::string bucket, key, sizes;
    std::optional<JobReport> report;
    std::optional<JobError> error;
    double seconds = 0;
  };

  void HandleMessage(Client& client, const pb::Message& message);
  JobLogLine RunJob(const Job& job);
  // Waits `wait`, or less when draining starts; false when draining.
  bool Pause(std::chrono::milliseconds wait);

  // What to do with a message whose jobs ended with `error`.
  JobResult Fail(Client& client, const pb::Message& message, const JobError& error);
  void Ack(Client& client, const pb::Message& message);
  void HandBack(Client& client, const pb::Message& message, int visibility_timeout_seconds);

  const WorkerOptions options_;
  const JobRunner* runner_;
  WorkerMetrics* metrics_;
  std::unique_ptr<Heartbeat> heartbeat_;

  std::atomic<bool> draining_{false};
  std::atomic<bool> cancel_{false};
  std::mutex mu_;
  std::condition_variable changed_;
  int running_threads_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace sluice::worker

#endif  // SLUICE_WORKER_WORKER_H_
