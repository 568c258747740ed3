// Fuzz target: the worker's checks on an object before an image is decoded.
// The input is an object as the worker reads it from a bucket; Resize tells
// its format by its first bytes (only JPEG, PNG, WebP and GIF go on, each to
// its own coder), checks the size a PNG's IHDR declares, then the size
// ImageMagick's header read (ping) finds, and decodes only within the
// limits. The limits here are small, so that whatever passes them decodes
// in milliseconds; the ImageMagick policy is the worker's own.
//
// Oracle: an image is resized only if its declared size is within the
// limits, and its outputs fit their boxes.
#include <chrono>
#include <iterator>
#include <string_view>

#include "tests/fuzz/oracle.h"
#include "tests/fuzz/targets.h"
#include "worker/image_format.h"
#include "worker/magick.h"
#include "worker/magick_setup.h"
#include "worker/resizer.h"

namespace sluice::fuzz {
namespace {

constexpr worker::ResizeLimits kLimits{.max_pixels = 256 * 256, .max_dimension = 1024};
constexpr uint32_t kBoxes[] = {64, 16};

void SetUpMagick() {
  Magick::InitializeMagick(nullptr);
  worker::MagickLimits limits;
  limits.memory_bytes = 256ull << 20;
  Check(worker::ConfigureImageMagick(limits).empty(), "the worker's ImageMagick set-up holds");
}

}  // namespace

int FuzzImageSniff(const uint8_t* data, size_t size) {
  static const bool ready = (QuietLogs(), SetUpMagick(), true);
  (void)ready;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto format = worker::SniffFormat(input);
  worker::StopCheck stop;
  stop.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  const worker::ResizeRequest request{{std::begin(kBoxes), std::end(kBoxes)}, std::nullopt, 85};
  auto result = worker::Resize(input, request, kLimits, stop);
  if (!result.ok()) return 0;
  Check(format.has_value() && result->input_format == *format,
        "only a sniffed format is decoded, as itself");
  const uint64_t width = result->input_width, height = result->input_height;
  Check(width >= 1 && height >= 1 && width <= kLimits.max_dimension &&
            height <= kLimits.max_dimension && width * height <= kLimits.max_pixels,
        "only an image within the limits is decoded");
  Check(result->outputs.size() == std::size(kBoxes), "one output per box");
  for (size_t i = 0; i < result->outputs.size(); ++i) {
    const worker::ResizedImage& out = result->outputs[i];
    Check(out.box == kBoxes[i] && out.width >= 1 && out.height >= 1 && out.width <= out.box &&
              out.height <= out.box && !out.data.empty(),
          "an output fits its box");
  }
  return 0;
}

}  // namespace sluice::fuzz
