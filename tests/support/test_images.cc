#include "tests/support/test_images.h"

#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "worker/magick.h"

namespace sluice::testing {
namespace {

std::string ToString(const Magick::Blob& blob) {
  return std::string(static_cast<const char*>(blob.data()), blob.length());
}

Magick::Image Load(const std::string& data) {
  Magick::Image image;
  image.read(Magick::Blob(data.data(), data.size()));
  return image;
}

// An image made from 8-bit RGB pixels. Not from a "gradient:" or "xc:"
// pseudo-image: the worker's ImageMagick policy refuses every coder but the
// four it uses, and tests run under that policy.
Magick::Image FromPixels(size_t width, size_t height, const std::string& rgb) {
  return Magick::Image(width, height, "RGB", Magick::CharPixel, rgb.data());
}

Magick::Image Solid(size_t width, size_t height, unsigned char r, unsigned char g,
                    unsigned char b) {
  std::string rgb;
  rgb.reserve(width * height * 3);
  for (size_t i = 0; i < width * height; ++i) {
    rgb.push_back(static_cast<char>(r));
    rgb.push_back(static_cast<char>(g));
    rgb.push_back(static_cast<char>(b));
  }
  return FromPixels(width, height, rgb);
}

std::string Encode(Magick::Image image, const std::string& format) {
  image.magick(format);
  Magick::Blob blob;
  image.write(&blob);
  return ToString(blob);
}

void AppendBigEndian(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

void AppendPngChunk(std::string& out, const std::string& type, const std::string& data) {
  AppendBigEndian(out, static_cast<uint32_t>(data.size()));
  const std::string typed = type + data;
  out += typed;
  AppendBigEndian(out, static_cast<uint32_t>(
                           crc32(0, reinterpret_cast<const Bytef*>(typed.data()), typed.size())));
}

}  // namespace

void InitMagickForTests() {
  static std::once_flag once;
  std::call_once(once, [] { Magick::InitializeMagick(nullptr); });
}

std::string SamplePhotoPath(const std::string& name) {
  return std::string(SLUICE_SOURCE_DIR) + "/examples/pending/" + name;
}

std::vector<std::string> SamplePhotoNames() {
  return {"aitzgorri.jpg", "bridge.jpg", "friends.jpg", "picture-1a.jpg", "umang.jpg"};
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteFile(const std::string& path, const std::string& data) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string MakeImage(size_t width, size_t height, const std::string& format) {
  InitMagickForTests();
  // Red fades to blue from top to bottom and green rises from left to right,
  // so that each of the eight orientations gives a different top-left corner.
  const auto ramp = [](size_t i, size_t n) {
    return static_cast<unsigned char>(n > 1 ? 255 * i / (n - 1) : 0);
  };
  std::string pixels(width * height * 3, '\0');
  for (size_t y = 0; y < height; ++y) {
    for (size_t x = 0; x < width; ++x) {
      char* p = &pixels[(y * width + x) * 3];
      p[0] = static_cast<char>(255 - ramp(y, height));
      p[1] = static_cast<char>(ramp(x, width));
      p[2] = static_cast<char>(ramp(y, height));
    }
  }
  return Encode(FromPixels(width, height, pixels), format);
}

std::string Reencode(const std::string& image, const std::string& format) {
  InitMagickForTests();
  return Encode(Load(image), format);
}

std::string WithExifOrientation(const std::string& image, int orientation) {
  InitMagickForTests();
  // "Exif\0\0", a little-endian TIFF header, and one IFD holding one SHORT:
  // tag 0x0112 (Orientation).
  std::string exif("Exif\0\0II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0", 24);
  exif.push_back(static_cast<char>(orientation));
  // The rest of the 4-byte value field, then a 4-byte next-IFD offset of 0.
  exif += std::string(7, '\0');
  Magick::Image loaded = Load(image);
  loaded.profile("EXIF", Magick::Blob(exif.data(), exif.size()));
  loaded.orientation(static_cast<Magick::OrientationType>(orientation));
  return Encode(loaded, "JPEG");
}

std::string MakeAnimatedGif(size_t width, size_t height) {
  InitMagickForTests();
  std::vector<Magick::Image> frames;
  frames.push_back(Solid(width, height, 255, 0, 0));
  frames.push_back(Solid(width * 2, height * 2, 0, 0, 255));
  for (auto& f : frames) f.magick("GIF");
  Magick::Blob blob;
  Magick::writeImages(frames.begin(), frames.end(), &blob);
  return ToString(blob);
}

std::string MakePngBomb(uint32_t width, uint32_t height) {
  std::string png("\x89PNG\r\n\x1A\n", 8);
  std::string header;
  AppendBigEndian(header, width);
  AppendBigEndian(header, height);
  header += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB, no interlace
  AppendPngChunk(png, "IHDR", header);
  const std::string zeros(64 * 1024, '\0');
  uLongf size = compressBound(zeros.size());
  std::string compressed(size, '\0');
  compress(reinterpret_cast<Bytef*>(compressed.data()), &size,
           reinterpret_cast<const Bytef*>(zeros.data()), zeros.size());
  compressed.resize(size);
  AppendPngChunk(png, "IDAT", compressed);
  AppendPngChunk(png, "IEND", "");
  return png;
}

std::string WithDamagedScan(const std::string& jpeg, size_t count) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(jpeg[i]); };
  // Walk the marker segments from after SOI. A scan's entropy-coded data
  // follows its SOS header (0xFFDA) and runs to the next marker that is not
  // a stuffed 0xFF00 or a restart marker (0xFFD0-0xFFD7).
  const size_t middle = jpeg.size() / 2;
  size_t begin = 0, end = 0;
  size_t i = 2;
  while (i + 4 <= jpeg.size() && byte(i) == 0xFF && byte(i + 1) != 0xD9) {
    const bool sos = byte(i + 1) == 0xDA;
    i += 2 + (static_cast<size_t>(byte(i + 2)) << 8 | byte(i + 3));
    if (!sos) continue;
    size_t j = i;
    while (j + 1 < jpeg.size() &&
           !(byte(j) == 0xFF && byte(j + 1) != 0 && (byte(j + 1) < 0xD0 || byte(j + 1) > 0xD7))) {
      ++j;
    }
    if (i <= middle && middle < j) {
      begin = i;
      end = j;
      break;
    }
    i = j;
  }
  if (end == 0) throw std::runtime_error("no scan holds the middle of the JPEG");
  std::string damaged = jpeg;
  const size_t step = (end - begin) / (count + 1);
  for (size_t n = 1; n <= count; ++n) {
    size_t at = begin + n * step;
    while (at < end && (byte(at) == 0xFF || byte(at - 1) == 0xFF || byte(at) == (0xFF ^ 0x5A))) {
      ++at;
    }
    if (at < end) damaged[at] = static_cast<char>(byte(at) ^ 0x5A);
  }
  return damaged;
}

ImageInfo Inspect(const std::string& data) {
  InitMagickForTests();
  Magick::Image image = Load(data);
  ImageInfo info;
  info.width = image.columns();
  info.height = image.rows();
  info.format = image.magick();
  info.orientation = static_cast<int>(image.orientation());
  for (const char* name : {"EXIF", "ICC", "XMP", "IPTC", "8BIM"}) {
    if (image.profile(name).length() > 0) info.has_profiles = true;
  }
  return info;
}

Rgb MeanColorTopLeft(const std::string& data) {
  InitMagickForTests();
  Magick::Image image = Load(data);
  // Magick++'s pixelColor misreads a palette image (a small PNG or any GIF)
  // when no resize below has made it direct-colour: make it so first.
  image.classType(Magick::DirectClass);
  image.crop(Magick::Geometry(image.columns() / 2, image.rows() / 2, 0, 0));
  image.resize(Magick::Geometry("1x1!"));
  const Magick::ColorRGB c = image.pixelColor(0, 0);
  return {c.red() * 255.0, c.green() * 255.0, c.blue() * 255.0};
}

}  // namespace sluice::testing
