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
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
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

// The first failed entry of a batch answer.
std::string DescribeEntry(const char* op, const pb::BatchResultError& e) {
  return std::string(op) + " entry " + e.id() + ": " + EntryStatus(e).ToString();
}

void SendLoop(Run* run, Client* client) {
  const WorkloadOptions& o = run->options();
  const std::string body(o.body_bytes, 'm');
  pb::SendMessageRequest single;
  single.set_queue_name(o.queue);
  single.mutable_entry()->set_body(body);
  pb::SendMessageBatchRequest full;
  full.set_queue_name(o.queue);
  for (int i = 0; i < o.batch; ++i) {
    pb::SendMessageEntry* e = full.add_entries();
    e->set_id(std::to_string(i));
    e->set_body(body);
  }
  while (!run->stopped()) {
    const int n = run->ClaimSend(o.batch);
    if (n == 0) return;
    if (o.batch == 1) {
      auto r = client->SendMessage(single);
      run->CountRequest();
      if (!r.ok()) return run->Fail(Describe("SendMessage", r.status()));
    } else {
      pb::SendMessageBatchRequest partial;
      if (n < o.batch) {
        partial = full;
        partial.mutable_entries()->DeleteSubrange(n, o.batch - n);
      }
      auto r = client->SendMessageBatch(n < o.batch ? partial : full);
      run->CountRequest();
      if (!r.ok()) return run->Fail(Describe("SendMessageBatch", r.status()));
      if (r->failed_size() > 0) return run->Fail(DescribeEntry("SendMessageBatch", r->failed(0)));
      if (r->successful_size() != n) return run->Fail("SendMessageBatch: entries missing");
    }
    run->CountSent(n);
  }
}

void ReceiveLoop(Run* run, Client* client) {
  const WorkloadOptions& o = run->options();
  pb::ReceiveMessageRequest receive;
  receive.set_queue_name(o.queue);
  receive.set_max_number_of_messages(o.batch);
  receive.set_wait_time_seconds(kReceiveWaitSeconds);
  while (!run->stopped() && !run->AllDeleted()) {
    auto got = client->ReceiveMessage(receive);
    run->CountRequest();
    if (!got.ok()) return run->Fail(Describe("ReceiveMessage", got.status()));
    const int n = got->messages_size();
    if (n == 0) continue;
    run->CountReceived(n);
    for (const pb::Message& m : got->messages()) {
      if (static_cast<int>(m.body().size()) != o.body_bytes) {
        return run->Fail("ReceiveMessage: message " + m.message_id() + " has a body of " +
                         std::to_string(m.body().size()) + " bytes, not " +
                         std::to_string(o.body_bytes));
      }
    }
    if (n == 1 && o.batch == 1) {
      pb::DeleteMessageRequest del;
      del.set_queue_name(o.queue);
      del.set_receipt_handle(got->messages(0).receipt_handle());
      auto r = client->DeleteMessage(del);
      run->CountRequest();
      if (!r.ok()) return run->Fail(Describe("DeleteMessage", r.status()));
    } else {
      pb::DeleteMessageBatchRequest del;
      del.set_queue_name(o.queue);
      for (int i = 0; i < n; ++i) {
        pb::DeleteMessageBatchEntry* e = del.add_entries();
        e->set_id(std::to_string(i));
        e->set_receipt_handle(got->messages(i).receipt_handle());
      }
      auto r = client->DeleteMessageBatch(del);
      run->CountRequest();
      if (!r.ok()) return run->Fail(Describe("DeleteMessageBatch", r.status()));
      if (r->failed_size() > 0) {
        return run->Fail(DescribeEntry("DeleteMessageBatch", r->failed(0)));
      }
      if (r->successful_size() != n) return run->Fail("DeleteMessageBatch: entries missing");
    }
    run->CountDeleted(n);
  }
}

// One client thread: connects (a GetQueueUrl, which also checks the queue),
// waits for the others, then runs its loop.
void ClientThread(Run* run, bool sender, std::latch* ready, std::latch* go) {
  Client client(run->options().endpoint);
  pb::GetQueueUrlRequest url;
  url.set_queue_name(run->options().queue);
  auto r = client.GetQueueUrl(url);
  ready->count_down();
  go->wait();
  if (!r.ok()) return run->Fail(Describe("GetQueueUrl", r.status()));
  if (sender) {
    SendLoop(run, &client);
  } else {
    ReceiveLoop(run, &client);
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
  std::vector<std::thread> threads;
  for (int i = 0; i < options.threads; ++i) {
    bool sender =
        options.workload == Workload::kSend || (options.workload == Workload::kMixed && i % 2 == 0);
    threads.emplace_back(ClientThread, &run, sender, &ready, &go);
  }
  run.Start(&ready, &go);
  run.WaitForEnd();
  for (std::thread& t : threads) t.join();
  WorkloadResult result = run.Collect();
  result.cpu_seconds = CpuSeconds() - cpu_before;
  return result;
}

}  // namespace sluice::bench
