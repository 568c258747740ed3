#include "worker/image_format.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace sluice::worker {

std::optional<ImageFormat> SniffFormat(std::string_view data) {
  if (data.starts_with("\xFF\xD8\xFF")) return ImageFormat::kJpeg;
  if (data.starts_with("\x89PNG\r\n\x1A\n")) return ImageFormat::kPng;
  if (data.starts_with("GIF87a") || data.starts_with("GIF89a")) return ImageFormat::kGif;
  if (data.size() >= 12 && data.starts_with("RIFF") && data.substr(8, 4) == "WEBP") {
    return ImageFormat::kWebp;
  }
  return std::nullopt;
}

std::optional<ImageFormat> ParseFormatName(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (lower == "jpeg" || lower == "jpg") return ImageFormat::kJpeg;
  if (lower == "png") return ImageFormat::kPng;
  if (lower == "webp") return ImageFormat::kWebp;
  if (lower == "gif") return ImageFormat::kGif;
  return std::nullopt;
}

const char* CoderName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg:
      return "JPEG";
    case ImageFormat::kPng:
      return "PNG";
    case ImageFormat::kWebp:
      return "WEBP";
    case ImageFormat::kGif:
      return "GIF";
  }
  return "";
}

const char* Extension(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg:
      return "jpg";
    case ImageFormat::kPng:
      return "png";
    case ImageFormat::kWebp:
      return "webp";
    case ImageFormat::kGif:
      return "gif";
  }
  return "";
}

}  // namespace sluice::worker
