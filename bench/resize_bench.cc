// sluice-resize-bench: how fast the worker's resizer makes the default outputs
// of an image, with one thread, and how much memory one image in flight
// takes. bench/resize.sh runs it beside vipsthumbnail and ImageMagick's
// convert on the same files; results are in docs/benchmarks.md.
//
// For each FILE it prints: pixels, bytes, the median and best milliseconds
// for both outputs over --runs runs (after one warm-up run), and images per
// second per core. With --memory it resizes only the first file, once, and
// prints the growth of the process's peak RSS (VmHWM) while it did: run it in
// a fresh process per file.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "worker/magick.h"
#include "worker/magick_setup.h"
#include "worker/resizer.h"

namespace {

using sluice::worker::ResizeRequest;

long PeakRssKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sluice-resize-bench: time the worker's resizer on image files"};
  std::vector<std::string> files;
  std::vector<uint32_t> sizes = {1000, 200};
  int runs = 10;
  bool memory = false;
  app.add_option("files", files, "images to resize")->required()->check(CLI::ExistingFile);
  app.add_option("--sizes", sizes, "boxes, largest first")->delimiter(',')->capture_default_str();
  app.add_option("--runs", runs, "timed runs per file")->check(CLI::Range(1, 1000));
  app.add_flag("--memory", memory, "report the peak memory of one resize of the first file");
  CLI11_PARSE(app, argc, argv);

  Magick::InitializeMagick(argv[0]);
  sluice::worker::MagickLimits limits;
  limits.threads = 1;
  if (std::string error = sluice::worker::ConfigureImageMagick(limits); !error.empty()) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  const ResizeRequest request{sizes, std::nullopt, 85};

  if (memory) {
    const std::string input = ReadAll(files.front());
    const long before = PeakRssKiB();
    auto result = sluice::worker::Resize(input, request, {}, {});
    const long after = PeakRssKiB();
    if (!result.ok()) {
      std::fprintf(stderr, "%s: %s\n", files.front().c_str(), result.error().detail.c_str());
      return 1;
    }
    std::printf("%s peak_rss_growth_mib=%.1f\n", files.front().c_str(),
                static_cast<double>(after - before) / 1024.0);
    return 0;
  }

  std::printf("%-28s %12s %10s %10s %10s %12s\n", "file", "pixels", "bytes", "median_ms", "best_ms",
              "images/s/core");
  for (const std::string& path : files) {
    const std::string input = ReadAll(path);
    std::vector<double> ms;
    size_t pixels = 0;
    for (int run = 0; run <= runs; ++run) {
      const auto start = std::chrono::steady_clock::now();
      auto result = sluice::worker::Resize(input, request, {}, {});
      const auto end = std::chrono::steady_clock::now();
      if (!result.ok()) {
        std::fprintf(stderr, "%s: %s\n", path.c_str(), result.error().detail.c_str());
        return 1;
      }
      pixels = result->input_width * result->input_height;
      if (run > 0) ms.push_back(std::chrono::duration<double, std::milli>(end - start).count());
    }
    std::sort(ms.begin(), ms.end());
    const double median = ms[ms.size() / 2];
    const std::string name = path.substr(path.rfind('/') + 1);
    std::printf("%-28s %12zu %10zu %10.1f %10.1f %12.2f\n", name.c_str(), pixels, input.size(),
                median, ms.front(), 1000.0 / median);
  }
  return 0;
}
