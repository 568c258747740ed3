// Subprocess: runs one of our binaries for an integration test, the way a
// user would: real argv, real environment, stdout and stderr captured to
// files. The destructor kills what is still running, so a failing test
// leaves no stray processes behind.
#ifndef SLUICE_TESTS_SUPPORT_SUBPROCESS_H_
#define SLUICE_TESTS_SUPPORT_SUBPROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace sluice::testing {

class Subprocess {
 public:
  // Starts `argv` with `extra_env` ("NAME=value") added to the environment;
  // `stdin_text`, when given, is fed to its standard input.
  Subprocess(std::vector<std::string> argv, std::vector<std::string> extra_env = {},
             const std::optional<std::string>& stdin_text = std::nullopt);
  ~Subprocess();

  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int signo);
  // Waits for the process to end, at most `timeout`; its exit code, or -signal
  // when a signal ended it, or nullopt when it is still running.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  bool Running();

  std::string Stdout() const;
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string dir_;
};

// Runs a command to its end (at most `timeout`) and returns what it did.
struct CommandResult {
  int exit_code = -1;  // -1 also when it timed out
  std::string out;
  std::string err;
};
CommandResult RunCommand(std::vector<std::string> argv, std::vector<std::string> extra_env = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(30));

// A fresh directory under the system's temporary directory, removed by the
// destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreeTcpPort();

// Polls `condition` every few milliseconds until it holds or `timeout` ends.
template <typename Condition>
bool WaitFor(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    struct timespec ts = {0, 5'000'000};
    nanosleep(&ts, nullptr);
  }
  return condition();
}

}  // namespace sluice::testing

#endif  // SLUICE_TESTS_SUPPORT_SUBPROCESS_H_
