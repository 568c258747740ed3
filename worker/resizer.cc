#include "worker/resizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>

#include "worker/magick.h"

namespace sluice::worker {
namespace {

using Clock = std::chrono::steady_clock;

// What the progress callback found; read after each ImageMagick call.
// Atomic: ImageMagick's OpenMP loops (resize, colorspace) call the callback
// from several threads at once.
struct StopState {
  const StopCheck* check;
  std::atomic<bool> timed_out{false};
  std::atomic<bool> cancelled{false};
};

MagickCore::MagickBooleanType OnProgress(const char*, const MagickCore::MagickOffsetType,
                                         const MagickCore::MagickSizeType, void* data) {
  auto* state = static_cast<StopState*>(data);
  if (state->check->cancel != nullptr && state->check->cancel->load(std::memory_order_relaxed)) {
    state->cancelled.store(true, std::memory_order_relaxed);
  } else if (Clock::now() >= state->check->deadline) {
    state->timed_out.store(true, std::memory_order_relaxed);
  }
  return (state->timed_out.load(std::memory_order_relaxed) ||
          state->cancelled.load(std::memory_order_relaxed))
             ? MagickCore::MagickFalse
             : MagickCore::MagickTrue;
}

// Whether the image's EXIF orientation turns it a quarter. Read as the number
// ImageMagick stores: it copies the EXIF tag's value whatever it is, and as
// an OrientationType a value the enum does not name is undefined behaviour
// (the fuzzer found a JPEG whose tag says 61190).
bool SwapsSides(const Magick::Image& image) {
  static_assert(sizeof(MagickCore::OrientationType) == sizeof(int));
  int orientation;
  std::memcpy(&orientation, &image.constImage()->orientation, sizeof orientation);
  for (Magick::OrientationType swapping :
       {Magick::LeftTopOrientation, Magick::RightTopOrientation, Magick::RightBottomOrientation,
        Magick::LeftBottomOrientation}) {
    if (orientation == static_cast<int>(swapping)) return true;
  }
  return false;
}

// Converts what ImageMagick threw into the job's failure reason.
JobError FromMagick(const std::exception& e) {
  const std::string what = e.what();
  if (dynamic_cast<const Magick::ErrorResourceLimit*>(&e) != nullptr) {
    // The image passed our own size checks, so what ran short is the memory
    // all jobs share: worth a retry when fewer jobs hold it.
    return {FailureReason::kBusy, "ImageMagick's resource limits were reached: " + what};
  }
  if (dynamic_cast<const Magick::ErrorPolicy*>(&e) != nullptr) {
    return {FailureReason::kUnsupportedFormat, "refused by the ImageMagick policy: " + what};
  }
  if (dynamic_cast<const std::bad_alloc*>(&e) != nullptr) {
    return {FailureReason::kTooLarge, "out of memory"};
  }
  return {FailureReason::kCorruptImage, what};
}

// kTooLarge when a declared width x height is over the limits.
std::optional<JobError> OverLimits(size_t width, size_t height, const ResizeLimits& limits) {
  if (width == 0 || height == 0 || width > limits.max_dimension || height > limits.max_dimension ||
      static_cast<uint64_t>(width) * height > limits.max_pixels) {
    return JobError{FailureReason::kTooLarge,
                    "declared size " + std::to_string(width) + "x" + std::to_string(height) +
                        " is over the limits (" + std::to_string(limits.max_dimension) +
                        " per side, " + std::to_string(limits.max_pixels) + " pixels)"};
  }
  return std::nullopt;
}

// The size in a PNG's IHDR, which the format puts first, at a fixed offset.
// Read here because libpng refuses a PNG over ImageMagick's width or height
// limit without ImageMagick saying why ("No image was loaded"), which would
// make a decompression bomb look like a corrupt image. A zero side is left
// for libpng to call corrupt.
std::optional<std::pair<size_t, size_t>> PngDeclaredSize(std::string_view png) {
  if (png.size() < 24 || png.substr(12, 4) != "IHDR") return std::nullopt;
  const auto be32 = [&](size_t at) {
    size_t v = 0;
    for (size_t i = at; i < at + 4; ++i) v = v << 8 | static_cast<unsigned char>(png[i]);
    return v;
  };
  const size_t width = be32(16), height = be32(20);
  if (width == 0 || height == 0) return std::nullopt;
  return std::pair<size_t, size_t>{width, height};
}

// The decoder's own words in an ImageMagick exception, whose text is
// "<program>: <reason> `<file>' @ <severity>/<module>/<function>/<line>":
// "Premature end of JPEG file", say. The whole text if it is not in that form.
std::string DecoderMessage(const Magick::Exception& e) {
  std::string text = e.what();
  const std::string program = std::string(MagickCore::GetClientName()) + ": ";
  if (text.starts_with(program)) text.erase(0, program.size());
  if (const size_t file = text.find(" `"); file != std::string::npos && file > 0) {
    text.erase(file);
  }
  return text;
}

// The first warning of corrupt data among those one call threw: Magick++
// throws the most severe of a call's exceptions and nests the others, so an
// odd EXIF tag (a coder warning) can come first.
const Magick::Exception* CorruptDataWarning(const Magick::Exception& e) {
  for (const Magick::Exception* p = &e; p != nullptr; p = p->nested()) {
    if (dynamic_cast<const Magick::WarningCorruptImage*>(p) != nullptr) return p;
  }
  return nullptr;
}

std::optional<JobError> Stopped(const StopState& state) {
  if (state.cancelled) return JobError{FailureReason::kCancelled, "the worker is shutting down"};
  if (state.timed_out) return JobError{FailureReason::kTimedOut, "the resize ran out of time"};
  return std::nullopt;
}

}  // namespace

std::pair<size_t, size_t> FitWithin(size_t width, size_t height, uint32_t box) {
  if (width <= box && height <= box) return {width, height};
  const double scale = static_cast<double>(box) / static_cast<double>(std::max(width, height));
  const auto side = [&](size_t n) {
    return std::clamp<size_t>(static_cast<size_t>(std::lround(static_cast<double>(n) * scale)), 1,
                              box);
  };
  return {side(width), side(height)};
}

Result<ResizeResult, JobError> Resize(std::string_view input, const ResizeRequest& request,
                                      const ResizeLimits& limits, const StopCheck& stop) {
  if (input.empty()) return JobError{FailureReason::kCorruptImage, "the object is empty"};
  const auto format = SniffFormat(input);
  if (!format) {
    return JobError{FailureReason::kUnsupportedFormat,
                    "not a JPEG, PNG, WebP or GIF image (by its first bytes)"};
  }
  if (request.boxes.empty()) return JobError{FailureReason::kInvalidJob, "no sizes to make"};
  ResizeResult result;
  result.input_format = *format;
  const ImageFormat output_format = request.output_format.value_or(*format);
  if (*format == ImageFormat::kPng) {
    if (const auto size = PngDeclaredSize(input)) {
      if (auto over = OverLimits(size->first, size->second, limits)) return *over;
    }
  }
  StopState state{&stop};
  try {
    const Magick::Blob blob(input.data(), input.size());
    Magick::Image header;
    header.magick(CoderName(*format));
    header.subRange(1);
    header.ping(blob);
    const size_t width = header.columns();
    const size_t height = header.rows();
    if (auto over = OverLimits(width, height, limits)) return *over;

    Magick::Image image;
    image.magick(CoderName(*format));
    image.subRange(1);  // a GIF's first frame only
    if (*format == ImageFormat::kJpeg) {
      // Shrink-on-load, as libvips does it: libjpeg scales the DCT by the
      // largest factor that keeps the image at least as large as the biggest
      // output, and Lanczos does the rest. Against a full decode and Lanczos
      // this measured 43 dB PSNR or better; a hint of twice the output took
      // 77% more instructions on a 12 MP photo for 1.7 dB (docs/benchmarks.md).
      const auto [w, h] = FitWithin(width, height, request.boxes.front());
      if (w < width && h < height) {
        image.defineValue("jpeg", "size", std::to_string(w) + "x" + std::to_string(h));
      }
    }
    MagickCore::SetImageInfoProgressMonitor(image.imageInfo(), OnProgress, &state);
    // Magick++ takes the decoded image before it throws the decoder's
    // warnings, so after a warning `image` holds what could be decoded, if
    // anything. An error (a missing SOS marker, no image in the stream) is
    // thrown on to the catch below: the pixels it leaves are not to be
    // trusted (libjpeg reads all of a progressive JPEG's scans before it
    // makes a pixel, so after an error there may be none: black, in convert).
    std::string warning;
    std::optional<std::string> corrupt;
    try {
      image.read(blob);
    } catch (const Magick::Warning& e) {
      warning = DecoderMessage(e);
      if (const Magick::Exception* c = CorruptDataWarning(e)) corrupt = DecoderMessage(*c);
    }
    if (auto stopped = Stopped(state)) return *stopped;
    if (image.columns() == 0 || image.rows() == 0) {
      return JobError{FailureReason::kCorruptImage,
                      "no image could be decoded" + (warning.empty() ? "" : ": " + warning)};
    }
    if (corrupt) {
      if (limits.strict_decode) {
        return JobError{FailureReason::kCorruptImage, "corrupt or truncated: " + *corrupt};
      }
      // libjpeg kept what it decoded and filled in the rest: grey after a
      // cut, garbled blocks after a bad byte. Browsers show as much.
      result.damage = std::move(*corrupt);
    }
    // Other warnings (an odd EXIF tag, say) leave a good image behind.

    const bool swaps = SwapsSides(image);
    result.input_width = swaps ? height : width;
    result.input_height = swaps ? width : height;
    MagickCore::SetImageProgressMonitor(image.image(), OnProgress, &state);
    image.autoOrient();
    const auto colorspace = image.colorSpace();
    if (colorspace != Magick::sRGBColorspace && colorspace != Magick::GRAYColorspace &&
        colorspace != Magick::RGBColorspace) {
      image.colorSpace(Magick::sRGBColorspace);
    }
    image.strip();
    image.page(Magick::Geometry(0, 0));  // a GIF frame's offset would follow it otherwise
    // Lanczos, ImageMagick's default for shrinking, named so that a changed
    // default cannot change our outputs.
    image.filterType(Magick::LanczosFilter);

    for (uint32_t box : request.boxes) {
      const auto [w, h] = FitWithin(result.input_width, result.input_height, box);
      if (w != image.columns() || h != image.rows()) {
        Magick::Geometry geometry(w, h);
        geometry.aspect(true);  // exactly w x h: the ratio is already in them
        image.resize(geometry);
      }
      if (auto stopped = Stopped(state)) return *stopped;
      Magick::Image out = image;
      out.magick(CoderName(output_format));
      out.quality(request.quality);
      Magick::Blob encoded;
      out.write(&encoded);
      if (auto stopped = Stopped(state)) return *stopped;
      result.outputs.push_back(
          {box, w, h, output_format,
           std::string(static_cast<const char*>(encoded.data()), encoded.length())});
    }
  } catch (const std::exception& e) {
    if (auto stopped = Stopped(state)) return *stopped;
    return FromMagick(e);
  }
  return result;
}

}  // namespace sluice::worker
