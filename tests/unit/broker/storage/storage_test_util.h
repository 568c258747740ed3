// Test helpers shared by the log's and the storage's unit tests: whole-file
// reads and writes, a full disk by RLIMIT_FSIZE, and a look at what spdlog
// logged.
#ifndef SLUICE_TESTS_UNIT_BROKER_STORAGE_STORAGE_TEST_UTIL_H_
#define SLUICE_TESTS_UNIT_BROKER_STORAGE_STORAGE_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <signal.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace sluice::testing {

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void WriteFile(const std::filesystem::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// While it lives, no file of the process may grow past `bytes`, as on a full
// disk: RLIMIT_FSIZE's soft limit is lowered to it and SIGXFSZ ignored, so a
// write(2) that crosses the limit is cut short there and the next one fails
// with EFBIG (instead of the signal killing the process). The old limit and
// the old disposition of SIGXFSZ come back when it goes. The limit is on each
// file's size (the offset a write ends at), not on bytes written, so limits
// are computed from the sizes of the files on disk. It holds for every file,
// a redirected stdout or stderr too: keep it to the calls meant to fail and
// check what they did after it is gone.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(uint64_t bytes) {
    struct sigaction ignore = {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    EXPECT_EQ(::sigaction(SIGXFSZ, &ignore, &old_action_), 0) << std::strerror(errno);
    EXPECT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit_), 0) << std::strerror(errno);
    rlimit limit = old_limit_;
    limit.rlim_cur = static_cast<rlim_t>(bytes);
    EXPECT_EQ(::setrlimit(RLIMIT_FSIZE, &limit), 0) << std::strerror(errno);
  }
  ~FileSizeLimit() {
    // The limit goes first, so that no write can raise SIGXFSZ once its
    // default disposition (kill) is back.
    EXPECT_EQ(::setrlimit(RLIMIT_FSIZE, &old_limit_), 0) << std::strerror(errno);
    EXPECT_EQ(::sigaction(SIGXFSZ, &old_action_, nullptr), 0) << std::strerror(errno);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  struct sigaction old_action_ = {};
  rlimit old_limit_ = {};
};

// Captures what is logged through spdlog's default logger while it lives.
class LogCapture {
 public:
  LogCapture()
      : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256)),
        previous_(spdlog::default_logger()) {
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink_));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }

  // The lines logged that contain `text`.
  std::vector<std::string> Find(const std::string& text) {
    std::vector<std::string> found;
    for (const std::string& line : sink_->last_formatted()) {
      if (line.find(text) != std::string::npos) found.push_back(line);
    }
    return found;
  }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

}  // namespace sluice::testing

#endif  // SLUICE_TESTS_UNIT_BROKER_STORAGE_STORAGE_TEST_UTIL_H_
