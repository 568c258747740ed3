#include "broker/storage/syncer.h"

#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <string>

#include "broker/storage/storage_status.h"

namespace sluice {

Result<std::unique_ptr<Syncer>> Syncer::Create(std::function<Status()> sync) {
  const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return Errno("eventfd");
  return std::unique_ptr<Syncer>(new Syncer(std::move(sync), fd));
}

Syncer::~Syncer() {
  if (thread_.joinable()) {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  ::close(fd_);
}

void Syncer::Request() {
  if (synced_ == written_ || requested_ == written_) return;
  if (!thread_.joinable()) thread_ = std::jthread([this] { Loop(); });
  requested_ = written_;
  {
    std::lock_guard lock(mu_);
    target_ = written_;
  }
  cv_.notify_one();
}

void Syncer::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    // A request made while the last fsync ran starts the next one at once,
    // without waiting for the loop to hear of the last one first.
    cv_.wait(lock, [this] { return stop_ || target_ > done_; });
    if (stop_) return;
    const uint64_t target = target_;
    lock.unlock();
    Status s = sync_();
    lock.lock();
    status_ = s;
    done_ = target;
    const uint64_t one = 1;
    if (::write(fd_, &one, sizeof one) != sizeof one) {
      spdlog::critical("event=syncer_signal_failed");
    }
  }
}

Status Syncer::Finish() {
  uint64_t count = 0;
  if (::read(fd_, &count, sizeof count) != sizeof count) return Status::Ok();
  std::lock_guard lock(mu_);
  if (!status_.ok()) return status_;
  synced_ = done_;
  return Status::Ok();
}

}  // namespace sluice
