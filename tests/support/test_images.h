// Test images: the sample photos in examples/pending/, and variants made from
// them in memory (other formats, EXIF orientations, truncations, bombs), so
// that no more binary files need committing.
#ifndef SLUICE_TESTS_SUPPORT_TEST_IMAGES_H_
#define SLUICE_TESTS_SUPPORT_TEST_IMAGES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sluice::testing {

// Calls Magick::InitializeMagick once; every function below does it.
void InitMagickForTests();

// examples/pending/<name> in the source tree, e.g. "bridge.jpg".
std::string SamplePhotoPath(const std::string& name);
// Every sample photo's file name.
std::vector<std::string> SamplePhotoNames();

std::string ReadFile(const std::string& path);
// Writes `data` to `path`, creating its parent directories.
void WriteFile(const std::string& path, const std::string& data);

// A synthetic width x height image encoded as `format` ("JPEG", "PNG",
// "WEBP", "GIF"): red at the top fading to blue at the bottom, green rising
// from left to right, so a resize has gradients to keep and the top-left
// corner (MeanColorTopLeft) tells which way up it is.
std::string MakeImage(size_t width, size_t height, const std::string& format);

// `image` (any format we read) re-encoded as `format`.
std::string Reencode(const std::string& image, const std::string& format);

// A JPEG of `image` carrying an EXIF Orientation tag of `orientation` (1-8).
// Its pixels are stored as given, so a viewer that honours the tag shows them
// turned (6: 90 degrees clockwise).
std::string WithExifOrientation(const std::string& image, int orientation);

// A two-frame GIF: the first frame width x height red, the second blue and
// twice as large.
std::string MakeAnimatedGif(size_t width, size_t height);

// A small PNG whose header declares width x height pixels (a decompression
// bomb when they are many): a valid signature and IHDR, a tiny IDAT.
std::string MakePngBomb(uint32_t width, uint32_t height);

// A JPEG with `count` bytes of its entropy-coded data changed, as a bad disk
// or transfer leaves one: spread through the scan that holds the middle of
// the file, never at or after a 0xFF and never to one, so that no marker is
// made or broken and the file's structure stays whole. Whether libjpeg
// notices ("Corrupt JPEG data: ...") depends on the bytes: a Huffman
// decoder can resynchronise after a bad code without a trace, so a test
// should check that its photo and count are noticed. Throws if `jpeg` has no
// such scan.
std::string WithDamagedScan(const std::string& jpeg, size_t count);

// The width and height of an encoded image, as ImageMagick reads it, and its
// format ("JPEG", ...). Throws if it is not an image.
struct ImageInfo {
  size_t width = 0;
  size_t height = 0;
  std::string format;
  int orientation = 0;        // the EXIF orientation, 0 when there is none
  bool has_profiles = false;  // any EXIF/ICC/XMP/IPTC profile
};
ImageInfo Inspect(const std::string& image);

// The mean colour of the top-left quarter of an image's pixels as stored
// (any EXIF orientation is not applied), as 0-255 RGB, for telling which way
// up it is.
struct Rgb {
  double r = 0, g = 0, b = 0;
};
Rgb MeanColorTopLeft(const std::string& image);

}  // namespace sluice::testing

#endif  // SLUICE_TESTS_SUPPORT_TEST_IMAGES_H_
