// Resizer: one image in, several sizes out, with ImageMagick Magick++.
//
// The input is decoded once, and each size is made from the one before it,
// largest first. A JPEG is decoded at a reduced scale when the outputs allow
// it (the "jpeg:size" hint, set to the largest output after reading the
// header): a 12-megapixel photo is never expanded to full size. Outputs are
// auto-oriented from EXIF, in sRGB, stripped of metadata, and never larger
// than the input.
//
// The input's format is told by its magic bytes and ImageMagick is given that
// coder explicitly. Declared dimensions are checked against the limits before
// any pixel is decoded, so a decompression bomb costs a header read. A
// StopCheck aborts the work from ImageMagick's progress callbacks when the
// job's time is up or the worker is cancelling it.
//
// A damaged image is rendered as far as it decodes, as browsers and
// ImageMagick's own tools do: libjpeg only warns of corrupt or missing data
// ("Premature end of JPEG file", "Corrupt JPEG data: bad Huffman code") and
// fills in what it could not decode, so such an image succeeds and says so
// in ResizeResult::damage. It fails as kCorruptImage when no image
// comes out at all (a decoder error, or a warning with no pixels behind it),
// or, with ResizeLimits::strict_decode, whenever the decoder warned.
#ifndef SLUICE_WORKER_RESIZER_H_
#define SLUICE_WORKER_RESIZER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "worker/image_format.h"
#include "worker/job_error.h"

namespace sluice::worker {

struct ResizeRequest {
  std::vector<uint32_t> boxes;               // largest first
  std::optional<ImageFormat> output_format;  // nullopt: the input's
  uint32_t quality = 85;
};

struct ResizeLimits {
  uint64_t max_pixels = 100'000'000;  // width x height as the header declares
  uint32_t max_dimension = 16'384;    // ImageMagick's limit too (magick_setup.h)
  // Fail an image whose decoder warned of corrupt data, instead of rendering
  // what it could decode.
  bool strict_decode = false;
};

// When to give up: at `deadline`, or as soon as `*cancel` is set.
struct StopCheck {
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  const std::atomic<bool>* cancel = nullptr;
};

struct ResizedImage {
  uint32_t box = 0;
  size_t width = 0;
  size_t height = 0;
  ImageFormat format = ImageFormat::kJpeg;
  std::string data;
};

struct ResizeResult {
  ImageFormat input_format = ImageFormat::kJpeg;
  size_t input_width = 0;  // after orientation
  size_t input_height = 0;
  std::vector<ResizedImage> outputs;  // one per box, in the request's order
  // The decoder's warning when the image was damaged and rendered anyway
  // ("Premature end of JPEG file"); empty when it decoded cleanly.
  std::string damage;
};

Result<ResizeResult, JobError> Resize(std::string_view input, const ResizeRequest& request,
                                      const ResizeLimits& limits, const StopCheck& stop);

// The size of a w x h image fit within a box x box square, aspect ratio kept,
// never enlarged; neither side below 1.
std::pair<size_t, size_t> FitWithin(size_t width, size_t height, uint32_t box);

}  // namespace sluice::worker

#endif  // SLUICE_WORKER_RESIZER_H_
