// The image formats the worker accepts and writes, and how an input's format
// is told: by its first bytes, never by its name or by ImageMagick's guess,
// so that a file named cat.jpg holding an SVG or a PostScript program never
// reaches a coder that could run it.
#ifndef SLUICE_WORKER_IMAGE_FORMAT_H_
#define SLUICE_WORKER_IMAGE_FORMAT_H_

#include <optional>
#include <string_view>

namespace sluice::worker {

enum class ImageFormat { kJpeg, kPng, kWebp, kGif };

// The format whose signature `data` starts with, or nullopt for anything else.
std::optional<ImageFormat> SniffFormat(std::string_view data);

// "jpeg", "png", "webp", "gif" (case-insensitive; "jpg" too) to a format.
std::optional<ImageFormat> ParseFormatName(std::string_view name);

// ImageMagick's coder name: "JPEG", "PNG", "WEBP", "GIF".
const char* CoderName(ImageFormat format);

// The file extension outputs of this format get: "jpg", "png", "webp", "gif".
const char* Extension(ImageFormat format);

}  // namespace sluice::worker

#endif  // SLUICE_WORKER_IMAGE_FORMAT_H_
