// Progress: what a long enqueue shows while it runs. On a terminal, one line
// redrawn five times a second (count, rate, ETA when the total is known);
// elsewhere (a log, a pipe, a pod) a log line every five seconds when the
// count moved, so that logs are not filled with carriage returns.
#ifndef SLUICE_PRODUCER_ENQUEUE_PROGRESS_H_
#define SLUICE_PRODUCER_ENQUEUE_PROGRESS_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace sluice {

class Progress {
 public:
  // `done` is polled from the progress thread.
  Progress(bool on_terminal, std::function<uint64_t()> done);
  ~Progress();  // draws the last state and ends the line

  void SetTotal(uint64_t total) { total_ = total; }

 private:
  void Loop();
  void Draw(bool last);

  const bool on_terminal_;
  const std::function<uint64_t()> done_;
  std::atomic<uint64_t> total_{0};
  const std::chrono::steady_clock::time_point start_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  uint64_t last_logged_ = 0;  // a log line only when there is news
  std::thread thread_;
};

}  // namespace sluice

#endif  // SLUICE_PRODUCER_ENQUEUE_PROGRESS_H_
