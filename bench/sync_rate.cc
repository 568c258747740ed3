// sluice-sync-rate: how many synced writes per second the disk under a
// directory takes, the ceiling on commits of anything that fsyncs each one.
// Prints one key=value line per mode:
//   append:    write(`--bytes`) at the end of a growing file + fdatasync, as a
//              write-ahead log does (the file size changes every time);
//   overwrite: the same into a preallocated file, no size change.
// The scratch file is removed afterwards. Exit 1 when a write or sync fails.
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

using SteadyClock = std::chrono::steady_clock;

// Writes and syncs `bytes` at a time for `seconds`; returns syncs per second,
// or -1 after printing the failure.
double Measure(const std::string& path, bool append, int bytes, double seconds) {
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::fprintf(stderr, "sluice-sync-rate: open %s: %s\n", path.c_str(), std::strerror(errno));
    return -1;
  }
  const std::vector<char> block(bytes, 'x');
  constexpr int kOverwriteBlocks = 1024;
  bool ok = true;
  if (!append) {
    // Lay the file out and make its size durable before measuring.
    for (int i = 0; i < kOverwriteBlocks && ok; ++i) {
      ok = ::write(fd, block.data(), block.size()) == bytes;
    }
    ok = ok && ::fsync(fd) == 0;
  }
  const auto start = SteadyClock::now();
  const auto end = start + std::chrono::duration_cast<SteadyClock::duration>(
                               std::chrono::duration<double>(seconds));
  long syncs = 0;
  while (ok && SteadyClock::now() < end) {
    if (append) {
      ok = ::write(fd, block.data(), block.size()) == bytes;
    } else {
      const off_t at = static_cast<off_t>(syncs % kOverwriteBlocks) * bytes;
      ok = ::pwrite(fd, block.data(), block.size(), at) == bytes;
    }
    ok = ok && ::fdatasync(fd) == 0;
    ++syncs;
  }
  const double elapsed = std::chrono::duration<double>(SteadyClock::now() - start).count();
  if (!ok) std::fprintf(stderr, "sluice-sync-rate: %s: %s\n", path.c_str(), std::strerror(errno));
  ::close(fd);
  ::unlink(path.c_str());
  return ok ? syncs / elapsed : -1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("sluice-sync-rate: synced writes per second of the disk under --dir",
               "sluice-sync-rate");
  std::string dir = ".";
  int bytes = 4096;
  double seconds = 3;
  app.add_option("--dir", dir, "a directory on the disk to measure")->capture_default_str();
  app.add_option("--bytes", bytes, "bytes per write")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  app.add_option("--seconds", seconds, "how long to measure each mode")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const std::string path = dir + "/sluice-sync-rate.tmp";
  for (bool append : {true, false}) {
    const double rate = Measure(path, append, bytes, seconds);
    if (rate < 0) return 1;
    std::printf("mode=%s bytes=%d synced_writes_per_s=%.0f\n", append ? "append" : "overwrite",
                bytes, rate);
  }
  return 0;
}
