// The test-image helpers (tests/support/test_images.h) do what they say, under
// the worker's ImageMagick policy: the worker's tests rely on them to tell a
// right answer from a wrong one.
#include "tests/support/test_images.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "worker/magick.h"

namespace sluice::testing {
namespace {

class TestImagesTest : public ::testing::Test {};

TEST_F(TestImagesTest, MakeImageInEveryFormat) {
  for (const std::string format : {"JPEG", "PNG", "WEBP", "GIF"}) {
    SCOPED_TRACE(format);
    const ImageInfo info = Inspect(MakeImage(300, 200, format));
    EXPECT_EQ(info.width, 300u);
    EXPECT_EQ(info.height, 200u);
    EXPECT_EQ(info.format, format);
    EXPECT_EQ(info.orientation, 0);
    EXPECT_FALSE(info.has_profiles);
  }
}

TEST_F(TestImagesTest, MakeImageIsRedAtTheTopAndGreenToTheRight) {
  // The top-left quarter of 300x200: red from 255 down to about 128, green
  // from 0 up to about 128, blue from 0 up to about 128; means about 192, 64
  // and 64.
  const Rgb top_left = MeanColorTopLeft(MakeImage(300, 200, "PNG"));
  EXPECT_NEAR(top_left.r, 191, 3);
  EXPECT_NEAR(top_left.g, 64, 3);
  EXPECT_NEAR(top_left.b, 64, 3);
  // 2x2: the quarter is the top-left pixel alone, pure red.
  const Rgb corner = MeanColorTopLeft(MakeImage(2, 2, "PNG"));
  EXPECT_NEAR(corner.r, 255, 1);
  EXPECT_NEAR(corner.g, 0, 1);
  EXPECT_NEAR(corner.b, 0, 1);
}

TEST_F(TestImagesTest, ReencodeChangesTheFormatOnly) {
  const std::string png = MakeImage(64, 48, "PNG");
  for (const std::string format : {"JPEG", "WEBP", "GIF", "PNG"}) {
    SCOPED_TRACE(format);
    const ImageInfo info = Inspect(Reencode(png, format));
    EXPECT_EQ(info.format, format);
    EXPECT_EQ(info.width, 64u);
    EXPECT_EQ(info.height, 48u);
  }
}

// Read back both by ImageMagick and from the EXIF profile's own bytes: the
// tag must be one any reader finds, not only ImageMagick's orientation field.
TEST_F(TestImagesTest, WithExifOrientationCarriesTheTag) {
  const std::string jpeg = MakeImage(300, 200, "JPEG");
  for (int orientation = 1; orientation <= 8; ++orientation) {
    SCOPED_TRACE(orientation);
    const std::string tagged = WithExifOrientation(jpeg, orientation);
    const ImageInfo info = Inspect(tagged);
    EXPECT_EQ(info.orientation, orientation);
    EXPECT_TRUE(info.has_profiles);
    EXPECT_EQ(info.format, "JPEG");
    EXPECT_EQ(info.width, 300u);  // the pixels are stored as given
    EXPECT_EQ(info.height, 200u);
    // An APP1 "Exif" segment whose IFD0 has the one Orientation entry, and a
    // next-IFD offset of zero after it.
    const std::string entry("\x12\x01\x03\x00\x01\x00\x00\x00", 8);
    const size_t at = tagged.find(std::string("Exif\0\0II*\0", 10));
    ASSERT_NE(at, std::string::npos);
    ASSERT_EQ(tagged.compare(at + 16, 8, entry), 0);
    EXPECT_EQ(tagged[at + 24], static_cast<char>(orientation));
    EXPECT_EQ(tagged.compare(at + 25, 7, std::string(7, '\0')), 0);
    // The segment's length (big-endian, counting itself) covers all 32 bytes.
    const auto length = (static_cast<unsigned char>(tagged[at - 2]) << 8) |
                        static_cast<unsigned char>(tagged[at - 1]);
    EXPECT_GE(length, 2 + 32);
  }
}

TEST_F(TestImagesTest, AnimatedGifReportsItsFirstFrame) {
  const std::string gif = MakeAnimatedGif(40, 30);
  const ImageInfo info = Inspect(gif);
  EXPECT_EQ(info.format, "GIF");
  EXPECT_EQ(info.width, 40u);
  EXPECT_EQ(info.height, 30u);
  const Rgb color = MeanColorTopLeft(gif);
  EXPECT_NEAR(color.r, 255, 1);
  EXPECT_NEAR(color.b, 0, 1);
  std::vector<Magick::Image> frames;
  Magick::readImages(&frames, Magick::Blob(gif.data(), gif.size()));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].columns(), 80u);
  EXPECT_EQ(frames[1].rows(), 60u);
}

TEST_F(TestImagesTest, PngBombDeclaresItsSize) {
  const std::string bomb = MakePngBomb(50'000, 40'000);
  EXPECT_LT(bomb.size(), 1024u);
  ASSERT_GE(bomb.size(), 33u);
  EXPECT_EQ(bomb.substr(0, 8), std::string("\x89PNG\r\n\x1A\n", 8));
  EXPECT_EQ(bomb.substr(8, 8), std::string("\0\0\0\x0DIHDR", 8));
  EXPECT_EQ(bomb.substr(16, 8), std::string("\x00\x00\xC3\x50\x00\x00\x9C\x40", 8));
  EXPECT_EQ(bomb.substr(bomb.size() - 12), std::string("\0\0\0\0IEND\xAE\x42\x60\x82", 12));
}

TEST_F(TestImagesTest, InspectThrowsOnANonImage) {
  EXPECT_ANY_THROW(Inspect("not an image"));
  EXPECT_ANY_THROW(Inspect(""));
}

TEST_F(TestImagesTest, SamplePhotosExist) {
  for (const std::string& name : SamplePhotoNames()) {
    SCOPED_TRACE(name);
    const ImageInfo info = Inspect(ReadFile(SamplePhotoPath(name)));
    EXPECT_EQ(info.format, "JPEG");
    EXPECT_GT(info.width, 1000u);
  }
}

}  // namespace
}  // namespace sluice::testing
