#include "producer/enqueue/progress.h"

#include <spdlog/spdlog.h>

#include <cstdio>

namespace sluice {

Progress::Progress(bool on_terminal, std::function<uint64_t()> done)
    : on_terminal_(on_terminal),
      done_(std::move(done)),
      start_(std::chrono::steady_clock::now()),
      thread_([this] { Loop(); }) {}

Progress::~Progress() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
  Draw(/*last=*/true);
}

void Progress::Loop() {
  const auto period = on_terminal_ ? std::chrono::milliseconds(200) : std::chrono::seconds(5);
  std::unique_lock lock(mu_);
  while (!wake_.wait_for(lock, period, [this] { return stop_; })) Draw(/*last=*/false);
}

void Progress::Draw(bool last) {
  const uint64_t done = done_();
  const uint64_t total = total_;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  if (!on_terminal_) {
    if (!last && done != last_logged_) {
      if (total > 0) {
        spdlog::info("event=progress enqueued={} total={} rate={:.0f}/s", done, total, rate);
      } else {
        spdlog::info("event=progress enqueued={} rate={:.0f}/s", done, rate);
      }
      last_logged_ = done;
    }
    return;
  }
  if (total > 0) {
    const double eta = rate > 0 && total > done ? static_cast<double>(total - done) / rate : 0;
    std::fprintf(stderr, "\r\033[Kenqueued %llu/%llu  %.0f files/s  ETA %.0fs",
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                 rate, eta);
  } else {
    std::fprintf(stderr, "\r\033[Kenqueued %llu  %.0f files/s",
                 static_cast<unsigned long long>(done), rate);
  }
  if (last) std::fputc('\n', stderr);
  std::fflush(stderr);
}

}  // namespace sluice
