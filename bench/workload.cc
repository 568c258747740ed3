// The workloads' client threads. Senders claim slices of the message total
// from a shared counter; receivers run until the shared delete count reaches
// the total. The clock stops when the counter that defines the workload's end
// (sent for kSend, deleted otherwise) crosses the total, so receivers still
// parked in a long poll at that moment do not lengthen the measurement.
#include "bench/workload.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <latch>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_client.h"
#include "bench/latency.h"
#include "common/status.h"

namespace sluice::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

// A receive that finds the queue empty waits this long at the broker before
// trying again, so idle receivers neither spin nor sleep through new sends.
constexpr int kReceiveWaitSeconds = 1;

// What all the threads of one run share.
class Run {
 public:
  explicit Run(const WorkloadOptions& options) : options_(options) {}

  const WorkloadOptions& options() const { return options_; }
  bool stopped() const { return stop_.load(std::memory_order_relaxed); }

  // Claims up to `batch` messages to send; 0 when all are claimed.
  int ClaimSend(int batch) {
    const int64_t before = claimed_.fetch_add(batch);
    if (before >= options_.messages) return 0;
    return static_cast<int>(std::min<int64_t>(batch, options_.messages - before));
  }
  bool AllDeleted() const { return deleted_.load() >= options_.messages; }

  void CountRequest() { requests_.fetch_add(1, std::memory_order_relaxed); }
  void CountEmptyReceive() { empty_receives_.fetch_add(1, std::memory_order_relaxed); }
  void CountReceived(int n) { received_.fetch_add(n, std::memory_order_relaxed); }
  void CountSent(int n) {
    const int64_t total = sent_.fetch_add(n) + n;
    if (total >= options_.messages && total - n < options_.messages) {
      send_done_ = SteadyClock::now();
      if (options_.workload == Workload::kSend) Finish();
    }
  }
  void CountDeleted(int n) {
    const int64_t total = deleted_.fetch_add(n) + n;
    if (total >= options_.messages && total - n < options_.messages) Finish();
  }

  // Records the first error and stops every thread.
  void Fail(const std::string& error) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (error_.empty()) error_ = error;
    }
    Finish();
  }

  // Once every thread is connected (`ready`), starts the clock and lets
  // them go.
  void Start(std::latch* ready, std::latch* go) {
    ready->wait();
    start_ = SteadyClock::now();
    go->count_down();
  }

  // Waits until the run finishes or `max_seconds` pass (an error then).
  void WaitForEnd() {
    std::unique_lock<std::mutex> lock(mu_);
    const auto deadline = start_ + std::chrono::duration_cast<SteadyClock::duration>(
                                       std::chrono::duration<double>(options_.max_seconds));
    if (!done_cv_.wait_until(lock, deadline, [this] { return done_; })) {
      lock.unlock();
      Fail("the run took longer than --max-seconds");
    }
  }

  WorkloadResult Collect() const {
    WorkloadResult r;
    r.sent = sent_.load();
    r.received = received_.load();
    r.deleted = deleted_.load();
    r.requests = requests_.load();
    r.empty_receives = empty_receives_.load();
    r.seconds = std::chrono::duration<double>(end_ - start_).count();
    if (send_done_ != SteadyClock::time_point{}) {
      r.send_seconds = std::chrono::duration<double>(send_done_ - start_).count();
    }
    std::lock_guard<std::mutex> lock(mu_);
    r.error = error_;
    return r;
  }

 private:
  void Finish() {
    std::lock_guard<std::mutex> lock(mu_);
    if (done_) return;
    done_ = true;
    end_ = SteadyClock::now();
    stop_.store(true);
    done_cv_.notify_all();
  }

  const WorkloadOptions& options_;
  std::atomic<int64_t> claimed_{0};
  std::atomic<int64_t> sent_{0};
  std::atomic<int64_t> received_{0};
  std::atomic<int64_t> deleted_{0};
  std::atomic<int64_t> requests_{0};
  std::atomic<int64_t> empty_receives_{0};
  std::atomic<bool> stop_{false};
  SteadyClock::time_point start_;
  SteadyClock::time_point send_done_;  // written once, read after the joins
  SteadyClock::time_point end_;
  mutable std::mutex mu_;
  std::condition_variable done_cv_;
  bool done_ = false;
  std::string error_;
};

// "SendMessageBatch: QueueDoesNotExist: ..." for a failed call.
std::string Describe(const char* op, const Status& s) {
  return std::string(op) + ": " + s.ToString();
}

// Times one call into `log`.
class CallTimer {
 public:
  CallTimer() : start_(SteadyClock::now()) {}
  void Record(LatencyLog* log, CallKind kind) const {
    log->Record(kind, SteadyClock::now() - start_);
  }

 private:
  SteadyClock::time_point start_;
};

void SendLoop(Run* run, BenchClient* client, LatencyLog* log) {
  const WorkloadOptions& o = run->options();
  const std::string body(o.body_bytes, 'm');
  while (!run->stopped()) {
    const int n = run->ClaimSend(o.batch);
    if (n == 0) return;
    const CallTimer timer;
    const Status s = o.batch == 1 ? client->SendMessage(body) : client->SendMessageBatch(n, body);
    run->CountRequest();
    if (!s.ok()) return run->Fail(Describe(o.batch == 1 ? "SendMessage" : "SendMessageBatch", s));
    timer.Record(log, CallKind::kSend);
    run->CountSent(n);
  }
}

void ReceiveLoop(Run* run, BenchClient* client, LatencyLog* log) {
  const WorkloadOptions& o = run->options();
  std::vector<ReceivedMessage> got;
  while (!run->stopped() && !run->AllDeleted()) {
    const CallTimer receive_timer;
    Status s = client->ReceiveMessage(o.batch, kReceiveWaitSeconds, &got);
    run->CountRequest();
    if (!s.ok()) return run->Fail(Describe("ReceiveMessage", s));
    const int n = static_cast<int>(got.size());
    if (n == 0) {
      run->CountEmptyReceive();
      continue;
    }
    receive_timer.Record(log, CallKind::kReceive);
    run->CountReceived(n);
    for (const ReceivedMessage& m : got) {
      if (m.body_bytes != static_cast<size_t>(o.body_bytes)) {
        return run->Fail("ReceiveMessage: message " + m.message_id + " has a body of " +
                         std::to_string(m.body_bytes) + " bytes, not " +
                         std::to_string(o.body_bytes));
      }
    }
    const bool single = n == 1 && o.batch == 1;
    const CallTimer delete_timer;
    s = single ? client->DeleteMessage(got[0].receipt_handle) : client->DeleteMessageBatch(got);
    run->CountRequest();
    if (!s.ok()) return run->Fail(Describe(single ? "DeleteMessage" : "DeleteMessageBatch", s));
    delete_timer.Record(log, CallKind::kDelete);
    run->CountDeleted(n);
  }
}

// One client thread: connects (a GetQueueUrl, which also checks the queue),
// waits for the others, then runs its loop.
void ClientThread(Run* run, bool sender, LatencyLog* log, std::latch* ready, std::latch* go) {
  const WorkloadOptions& o = run->options();
  std::unique_ptr<BenchClient> client =
      NewBenchClient(o.protocol, o.endpoint, o.queue, o.zmq_options);
  const Status opened = client->OpenQueue();
  ready->count_down();
  go->wait();
  if (!opened.ok()) return run->Fail(Describe("GetQueueUrl", opened));
  if (sender) {
    SendLoop(run, client.get(), log);
  } else {
    ReceiveLoop(run, client.get(), log);
  }
}

// User+system CPU seconds this process has used so far.
double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(u.ru_utime) + seconds(u.ru_stime);
}

}  // namespace

WorkloadResult RunWorkload(const WorkloadOptions& options) {
  const double cpu_before = CpuSeconds();
  Run run(options);
  std::latch ready(options.threads);
  std::latch go(1);
  std::vector<LatencyLog> logs(options.threads);
  std::vector<std::thread> threads;
  for (int i = 0; i < options.threads; ++i) {
    bool sender =
        options.workload == Workload::kSend || (options.workload == Workload::kMixed && i % 2 == 0);
    threads.emplace_back(ClientThread, &run, sender, &logs[i], &ready, &go);
  }
  run.Start(&ready, &go);
  run.WaitForEnd();
  for (std::thread& t : threads) t.join();
  WorkloadResult result = run.Collect();
  result.cpu_seconds = CpuSeconds() - cpu_before;
  result.latency = LatencySummary::Of(logs);
  return result;
}

}  // namespace sluice::bench
