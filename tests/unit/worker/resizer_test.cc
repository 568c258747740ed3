// Resize: real images in, real images out, under the worker's ImageMagick
// policy and limits. Hostile inputs must fail with the right reason.
#include "worker/resizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "tests/support/test_images.h"

namespace sluice::worker {
namespace {

using sluice::testing::Inspect;
using sluice::testing::MakeImage;
using sluice::testing::MeanColorTopLeft;
using sluice::testing::ReadFile;
using sluice::testing::Reencode;
using sluice::testing::SamplePhotoPath;

// --- FitWithin ------------------------------------------------------------------

using Size = std::pair<size_t, size_t>;

TEST(FitWithinTest, Landscape) {
  EXPECT_EQ(FitWithin(4352, 2448, 1000), Size(1000, 563));
  EXPECT_EQ(FitWithin(4352, 2448, 200), Size(200, 113));
}

TEST(FitWithinTest, Portrait) { EXPECT_EQ(FitWithin(2448, 4352, 1000), Size(563, 1000)); }

TEST(FitWithinTest, Square) { EXPECT_EQ(FitWithin(3000, 3000, 200), Size(200, 200)); }

TEST(FitWithinTest, NeverEnlarged) {
  EXPECT_EQ(FitWithin(120, 80, 1000), Size(120, 80));
  EXPECT_EQ(FitWithin(1000, 10, 1000), Size(1000, 10));
  EXPECT_EQ(FitWithin(1, 1, 1), Size(1, 1));
}

TEST(FitWithinTest, ExtremeAspectKeepsAtLeastOnePixel) {
  EXPECT_EQ(FitWithin(10000, 1, 200), Size(200, 1));
  EXPECT_EQ(FitWithin(1, 10000, 200), Size(1, 200));
  EXPECT_EQ(FitWithin(30000, 2, 1), Size(1, 1));
}

// --- Resize ---------------------------------------------------------------------

class ResizeTest : public ::testing::Test {
 protected:
  static const std::string& Bridge() {
    static const std::string* bridge = new std::string(ReadFile(SamplePhotoPath("bridge.jpg")));
    return *bridge;
  }

  static Result<ResizeResult, JobError> Run(const std::string& input, std::vector<uint32_t> boxes,
                                            std::optional<ImageFormat> format = std::nullopt,
                                            uint32_t quality = 85) {
    return Resize(input, {std::move(boxes), format, quality}, ResizeLimits{}, StopCheck{});
  }

  static std::optional<FailureReason> Failure(const std::string& input,
                                              const ResizeLimits& limits = {},
                                              const StopCheck& stop = {}) {
    auto result = Resize(input, {{200}, std::nullopt, 85}, limits, stop);
    if (result.ok()) return std::nullopt;
    return result.error().reason;
  }

  static constexpr ResizeLimits kStrict{.strict_decode = true};
};

TEST_F(ResizeTest, SamplePhotoToTwoBoxes) {
  auto result = Run(Bridge(), {1000, 200});
  ASSERT_TRUE(result.ok()) << result.error().detail;
  EXPECT_EQ(result->damage, "");
  EXPECT_EQ(result->input_format, ImageFormat::kJpeg);
  EXPECT_EQ(result->input_width, 4352u);
  EXPECT_EQ(result->input_height, 2448u);
  ASSERT_EQ(result->outputs.size(), 2u);
  const std::vector<std::tuple<uint32_t, size_t, size_t>> want = {{1000, 1000, 563},
                                                                  {200, 200, 113}};
  for (size_t i = 0; i < want.size(); ++i) {
    const ResizedImage& out = result->outputs[i];
    EXPECT_EQ(out.box, std::get<0>(want[i]));
    EXPECT_EQ(out.width, std::get<1>(want[i]));
    EXPECT_EQ(out.height, std::get<2>(want[i]));
    EXPECT_EQ(out.format, ImageFormat::kJpeg);
    const auto info = Inspect(out.data);
    EXPECT_EQ(info.format, "JPEG");
    EXPECT_EQ(info.width, out.width);
    EXPECT_EQ(info.height, out.height);
    EXPECT_FALSE(info.has_profiles);
  }
  // The colours survive: a resize, not a blank canvas of the right size.
  const auto in = MeanColorTopLeft(Bridge());
  const auto out = MeanColorTopLeft(result->outputs[1].data);
  EXPECT_NEAR(out.r, in.r, 12);
  EXPECT_NEAR(out.g, in.g, 12);
  EXPECT_NEAR(out.b, in.b, 12);
}

TEST_F(ResizeTest, EverySamplePhotoFitsItsBox) {
  for (const std::string& name : sluice::testing::SamplePhotoNames()) {
    SCOPED_TRACE(name);
    const std::string input = ReadFile(SamplePhotoPath(name));
    const auto original = Inspect(input);
    auto result = Run(input, {200});
    ASSERT_TRUE(result.ok()) << result.error().detail;
    ASSERT_EQ(result->outputs.size(), 1u);
    const auto info = Inspect(result->outputs[0].data);
    EXPECT_EQ(std::max(info.width, info.height), 200u);
    EXPECT_EQ(Size(info.width, info.height),
              FitWithin(result->input_width, result->input_height, 200));
    EXPECT_EQ(Size(result->input_width, result->input_height),
              Size(original.width, original.height));
  }
}

TEST_F(ResizeTest, MetadataIsStripped) {
  const std::string input = sluice::testing::WithExifOrientation(MakeImage(300, 200, "JPEG"), 1);
  ASSERT_TRUE(Inspect(input).has_profiles);
  auto result = Run(input, {100});
  ASSERT_TRUE(result.ok()) << result.error().detail;
  EXPECT_FALSE(Inspect(result->outputs[0].data).has_profiles);
}

TEST_F(ResizeTest, EachFormatKeepsItsFormatByDefault) {
  const std::string png = MakeImage(400, 300, "PNG");
  const std::vector<std::pair<std::string, ImageFormat>> formats = {{"JPEG", ImageFormat::kJpeg},
                                                                    {"PNG", ImageFormat::kPng},
                                                                    {"WEBP", ImageFormat::kWebp},
                                                                    {"GIF", ImageFormat::kGif}};
  for (const auto& [name, format] : formats) {
    SCOPED_TRACE(name);
    auto result = Run(Reencode(png, name), {200, 100});
    ASSERT_TRUE(result.ok()) << result.error().detail;
    EXPECT_EQ(result->input_format, format);
    ASSERT_EQ(result->outputs.size(), 2u);
    for (const ResizedImage& out : result->outputs) {
      EXPECT_EQ(out.format, format);
      const auto info = Inspect(out.data);
      EXPECT_EQ(info.format, name);
      EXPECT_EQ(Size(info.width, info.height), FitWithin(400, 300, out.box));
    }
  }
}

TEST_F(ResizeTest, OutputFormatConverts) {
  const std::string png = MakeImage(400, 300, "PNG");
  const std::vector<std::tuple<std::string, ImageFormat, std::string>> cases = {
      {"PNG", ImageFormat::kJpeg, "JPEG"},
      {"JPEG", ImageFormat::kWebp, "WEBP"},
      {"WEBP", ImageFormat::kPng, "PNG"},
      {"GIF", ImageFormat::kPng, "PNG"},
      {"PNG", ImageFormat::kGif, "GIF"}};
  for (const auto& [from, to, to_name] : cases) {
    SCOPED_TRACE(from + " to " + to_name);
    auto result = Run(Reencode(png, from), {200}, to);
    ASSERT_TRUE(result.ok()) << result.error().detail;
    ASSERT_EQ(result->outputs.size(), 1u);
    EXPECT_EQ(result->outputs[0].format, to);
    EXPECT_EQ(SniffFormat(result->outputs[0].data), to);
    const auto info = Inspect(result->outputs[0].data);
    EXPECT_EQ(info.format, to_name);
    EXPECT_EQ(Size(info.width, info.height), Size(200, 150));
  }
}

TEST_F(ResizeTest, AnimatedGifGivesItsFirstFrame) {
  const std::string gif = sluice::testing::MakeAnimatedGif(40, 30);
  auto result = Run(gif, {1000, 20});
  ASSERT_TRUE(result.ok()) << result.error().detail;
  EXPECT_EQ(result->input_width, 40u);
  EXPECT_EQ(result->input_height, 30u);
  ASSERT_EQ(result->outputs.size(), 2u);
  EXPECT_EQ(Size(result->outputs[0].width, result->outputs[0].height), Size(40, 30));
  EXPECT_EQ(Size(result->outputs[1].width, result->outputs[1].height), Size(20, 15));
  for (const ResizedImage& out : result->outputs) {
    const auto info = Inspect(out.data);
    EXPECT_EQ(Size(info.width, info.height), Size(out.width, out.height));
    const auto color = MeanColorTopLeft(out.data);  // the red frame, not the blue
    EXPECT_GT(color.r, 200);
    EXPECT_LT(color.b, 50);
  }
}

// MakeImage is red at the top, blue at the bottom, green to the right; the
// top-left corner of the output tells how it was turned.
TEST_F(ResizeTest, ExifOrientationIsApplied) {
  const std::string upright = MakeImage(300, 200, "JPEG");
  {
    SCOPED_TRACE("1: as stored");
    auto result = Run(sluice::testing::WithExifOrientation(upright, 1), {1000});
    ASSERT_TRUE(result.ok()) << result.error().detail;
    EXPECT_EQ(Size(result->outputs[0].width, result->outputs[0].height), Size(300, 200));
    const auto c = MeanColorTopLeft(result->outputs[0].data);
    EXPECT_GT(c.r, c.b + 80);  // the top
    EXPECT_LT(c.g, 100);       // the left
  }
  {
    SCOPED_TRACE("6: turned 90 degrees clockwise");
    auto result = Run(sluice::testing::WithExifOrientation(upright, 6), {1000, 100});
    ASSERT_TRUE(result.ok()) << result.error().detail;
    EXPECT_EQ(Size(result->input_width, result->input_height), Size(200, 300));
    for (const ResizedImage& out : result->outputs) {
      const auto info = Inspect(out.data);
      EXPECT_LT(info.width, info.height);
      EXPECT_EQ(Size(info.width, info.height), FitWithin(200, 300, out.box));
      EXPECT_EQ(info.orientation, 0);  // nothing left for a viewer to turn again
      // The stored bottom-left corner is now at the top left.
      const auto c = MeanColorTopLeft(out.data);
      EXPECT_GT(c.b, c.r + 80);
      EXPECT_LT(c.g, 100);
    }
  }
  {
    SCOPED_TRACE("8: turned 90 degrees counter-clockwise");
    auto result = Run(sluice::testing::WithExifOrientation(upright, 8), {1000});
    ASSERT_TRUE(result.ok()) << result.error().detail;
    EXPECT_EQ(Size(result->outputs[0].width, result->outputs[0].height), Size(200, 300));
    // The stored top-right corner is now at the top left.
    const auto c = MeanColorTopLeft(result->outputs[0].data);
    EXPECT_GT(c.r, c.b + 80);
    EXPECT_GT(c.g, 150);
  }
  {
    SCOPED_TRACE("3: turned 180 degrees");
    auto result = Run(sluice::testing::WithExifOrientation(upright, 3), {1000});
    ASSERT_TRUE(result.ok()) << result.error().detail;
    EXPECT_EQ(Size(result->outputs[0].width, result->outputs[0].height), Size(300, 200));
    // The stored bottom-right corner is now at the top left.
    const auto c = MeanColorTopLeft(result->outputs[0].data);
    EXPECT_GT(c.b, c.r + 80);
    EXPECT_GT(c.g, 150);
  }
}

TEST_F(ResizeTest, SmallImageIsNotEnlarged) {
  auto result = Run(MakeImage(120, 80, "PNG"), {1000, 200});
  ASSERT_TRUE(result.ok()) << result.error().detail;
  ASSERT_EQ(result->outputs.size(), 2u);
  for (const ResizedImage& out : result->outputs) {
    const auto info = Inspect(out.data);
    EXPECT_EQ(Size(info.width, info.height), Size(120, 80));
    EXPECT_EQ(Size(out.width, out.height), Size(120, 80));
  }
}

TEST_F(ResizeTest, LowerQualityGivesASmallerJpeg) {
  auto low = Run(Bridge(), {1000}, std::nullopt, 30);
  auto high = Run(Bridge(), {1000}, std::nullopt, 95);
  ASSERT_TRUE(low.ok()) << low.error().detail;
  ASSERT_TRUE(high.ok()) << high.error().detail;
  EXPECT_LT(low->outputs[0].data.size() * 2, high->outputs[0].data.size());
}

TEST_F(ResizeTest, NoBoxesIsAnInvalidJob) {
  auto result = Run(Bridge(), {});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().reason, FailureReason::kInvalidJob);
}

// --- Hostile and broken inputs -------------------------------------------------

TEST_F(ResizeTest, EmptyInputIsCorrupt) { EXPECT_EQ(Failure(""), FailureReason::kCorruptImage); }

TEST_F(ResizeTest, NonImagesAreUnsupported) {
  EXPECT_EQ(Failure("not an image"), FailureReason::kUnsupportedFormat);
  EXPECT_EQ(Failure("%!PS-Adobe-3.0\n%%BoundingBox: 0 0 100 100\nshowpage\n"),
            FailureReason::kUnsupportedFormat);
  EXPECT_EQ(Failure(R"(<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480">)"
                    R"(<image href="https://example.com/x.jpg"/></svg>)"),
            FailureReason::kUnsupportedFormat);
  EXPECT_EQ(Failure("push graphic-context\nviewbox 0 0 640 480\n"
                    "image over 0,0 0,0 'https://example.com/x.jpg'\npop graphic-context\n"),
            FailureReason::kUnsupportedFormat);
  EXPECT_EQ(Failure(std::string("BM\x46\0\0\0\0\0\0\0\x36\0\0\0", 14)),
            FailureReason::kUnsupportedFormat);  // a BMP header
}

// An SVG behind JPEG magic bytes reaches the JPEG decoder only.
TEST_F(ResizeTest, OtherContentBehindImageMagicIsCorrupt) {
  EXPECT_EQ(Failure("\xFF\xD8\xFF<svg xmlns=\"http://www.w3.org/2000/svg\"/>"),
            FailureReason::kCorruptImage);
  EXPECT_EQ(Failure("GIF89a push graphic-context\nviewbox 0 0 640 480\n"),
            FailureReason::kCorruptImage);
}

TEST_F(ResizeTest, TruncatedPngIsCorrupt) {
  const std::string png = MakeImage(400, 300, "PNG");
  EXPECT_EQ(Failure(png.substr(0, png.size() * 6 / 10)), FailureReason::kCorruptImage);
}

TEST_F(ResizeTest, HeaderOnlyIsCorrupt) {
  EXPECT_EQ(Failure(std::string("\x89PNG\r\n\x1A\n", 8)), FailureReason::kCorruptImage);
  EXPECT_EQ(Failure("\xFF\xD8\xFF"), FailureReason::kCorruptImage);
}

// --- Damaged photos -------------------------------------------------------------
//
// Real photos damaged as uploads are: a few bad bytes, or a cut-off end.
// libjpeg only warns of them and decodes what it can, so they render, as
// they do in browsers and with convert, and say so; strict_decode fails
// them. bridge.jpg is progressive (ten scans), umang.jpg baseline (one).

struct DamagedPhoto {
  std::string file;  // the sample photo it was made from
  std::string name;
  std::string data;
  std::string warning;  // what libjpeg says of it
};

std::vector<DamagedPhoto> DamagedPhotos() {
  std::vector<DamagedPhoto> photos;
  for (const std::string name : {"bridge.jpg", "umang.jpg"}) {
    const std::string photo = ReadFile(SamplePhotoPath(name));
    photos.push_back({name, name + " with 6 bad bytes", sluice::testing::WithDamagedScan(photo, 6),
                      "Corrupt JPEG data"});
    photos.push_back({name, name + " cut off at 60%", photo.substr(0, photo.size() * 6 / 10),
                      "Premature end of JPEG file"});
  }
  return photos;
}

TEST_F(ResizeTest, DamagedPhotosRenderAndSayWhy) {
  for (const DamagedPhoto& photo : DamagedPhotos()) {
    SCOPED_TRACE(photo.name);
    const auto size = Inspect(ReadFile(SamplePhotoPath(photo.file)));
    auto result = Run(photo.data, {1000, 200});
    ASSERT_TRUE(result.ok()) << result.error().detail;
    EXPECT_NE(result->damage.find(photo.warning), std::string::npos) << result->damage;
    // The decoder's words alone, not ImageMagick's wrapping of them.
    EXPECT_EQ(result->damage.find(" @ "), std::string::npos) << result->damage;
    EXPECT_EQ(Size(result->input_width, result->input_height), Size(size.width, size.height));
    ASSERT_EQ(result->outputs.size(), 2u);
    for (const ResizedImage& out : result->outputs) {
      const auto info = Inspect(out.data);
      EXPECT_EQ(Size(info.width, info.height), FitWithin(size.width, size.height, out.box));
      EXPECT_EQ(Size(out.width, out.height), Size(info.width, info.height));
    }
  }
}

// What was decoded is the photo, not a grey canvas of its size: the damage
// is after the top-left quarter's data in a baseline JPEG, and a progressive
// one cut at 60% has all of its coarse scans.
TEST_F(ResizeTest, CutOffPhotoKeepsWhatDecoded) {
  for (const std::string name : {"bridge.jpg", "umang.jpg"}) {
    SCOPED_TRACE(name);
    const std::string photo = ReadFile(SamplePhotoPath(name));
    auto clean = Run(photo, {200});
    auto cut = Run(photo.substr(0, photo.size() * 6 / 10), {200});
    ASSERT_TRUE(clean.ok()) << clean.error().detail;
    ASSERT_TRUE(cut.ok()) << cut.error().detail;
    const auto want = MeanColorTopLeft(clean->outputs[0].data);
    const auto got = MeanColorTopLeft(cut->outputs[0].data);
    EXPECT_NEAR(got.r, want.r, 6);
    EXPECT_NEAR(got.g, want.g, 6);
    EXPECT_NEAR(got.b, want.b, 6);
  }
}

TEST_F(ResizeTest, StrictDecodeFailsDamagedPhotos) {
  for (const DamagedPhoto& photo : DamagedPhotos()) {
    SCOPED_TRACE(photo.name);
    auto result = Resize(photo.data, {{1000, 200}, std::nullopt, 85}, kStrict, StopCheck{});
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().reason, FailureReason::kCorruptImage);
    EXPECT_NE(result.error().detail.find(photo.warning), std::string::npos)
        << result.error().detail;
  }
}

TEST_F(ResizeTest, StrictDecodePassesCleanPhotos) {
  for (const std::string& name : sluice::testing::SamplePhotoNames()) {
    SCOPED_TRACE(name);
    auto result =
        Resize(ReadFile(SamplePhotoPath(name)), {{200}, std::nullopt, 85}, kStrict, StopCheck{});
    ASSERT_TRUE(result.ok()) << result.error().detail;
    EXPECT_EQ(result->damage, "");
  }
}

// No image comes out of these, so there is nothing to render in either mode:
// the header cut off before the first scan, and garbage after the SOI marker.
TEST_F(ResizeTest, NothingDecodableIsCorruptInEveryMode) {
  std::string garbage = "\xFF\xD8\xFF";  // what tells a JPEG (image_format.h)
  for (int i = 0; i < 5000; ++i) garbage.push_back(static_cast<char>('!' + i * 7 % 90));
  const std::vector<std::pair<std::string, std::string>> inputs = {
      {"bridge.jpg, first 200 bytes", Bridge().substr(0, 200)},
      {"umang.jpg, first 200 bytes", ReadFile(SamplePhotoPath("umang.jpg")).substr(0, 200)},
      {"garbage after the SOI marker", garbage},
      {"SOI alone", "\xFF\xD8\xFF"}};
  for (const auto& [name, input] : inputs) {
    SCOPED_TRACE(name);
    EXPECT_EQ(Failure(input), FailureReason::kCorruptImage);
    EXPECT_EQ(Failure(input, kStrict), FailureReason::kCorruptImage);
  }
}

// A decode the StopCheck cut short is the stop's failure, retried later,
// even when the data was damaged too.
TEST_F(ResizeTest, StopComesBeforeDamage) {
  const StopCheck stop{.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1)};
  for (const DamagedPhoto& photo : DamagedPhotos()) {
    SCOPED_TRACE(photo.name);
    EXPECT_EQ(Failure(photo.data, {}, stop), FailureReason::kTimedOut);
    EXPECT_EQ(Failure(photo.data, kStrict, stop), FailureReason::kTimedOut);
  }
}

TEST_F(ResizeTest, DecompressionBombIsTooLarge) {
  // Over the worker's per-side limit.
  EXPECT_EQ(Failure(sluice::testing::MakePngBomb(50'000, 50'000)), FailureReason::kTooLarge);
  EXPECT_EQ(Failure(sluice::testing::MakePngBomb(30'001, 1)), FailureReason::kTooLarge);
  EXPECT_EQ(Failure(sluice::testing::MakePngBomb(1, 1'000'000)), FailureReason::kTooLarge);
  // Within it per side, but 400 megapixels.
  EXPECT_EQ(Failure(sluice::testing::MakePngBomb(20'000, 20'000)), FailureReason::kTooLarge);
}

// A PNG declaring no pixels at all is broken, not large.
TEST_F(ResizeTest, PngWithAZeroSideIsCorrupt) {
  EXPECT_EQ(Failure(sluice::testing::MakePngBomb(0, 100)), FailureReason::kCorruptImage);
}

TEST_F(ResizeTest, LimitsComeFromTheCaller) {
  const std::string image = MakeImage(400, 300, "PNG");
  EXPECT_EQ(Failure(image, {.max_pixels = 400 * 300 - 1}), FailureReason::kTooLarge);
  EXPECT_EQ(Failure(image, {.max_dimension = 399}), FailureReason::kTooLarge);
  EXPECT_EQ(Failure(image, {.max_pixels = 400 * 300, .max_dimension = 400}), std::nullopt);
}

TEST_F(ResizeTest, PassedDeadlineTimesOut) {
  const StopCheck stop{.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1)};
  EXPECT_EQ(Failure(Bridge(), {}, stop), FailureReason::kTimedOut);
  EXPECT_EQ(Failure(MakeImage(400, 300, "PNG"), {}, stop), FailureReason::kTimedOut);
}

TEST_F(ResizeTest, CancelFlagCancels) {
  std::atomic<bool> cancel{true};
  const StopCheck stop{.cancel = &cancel};
  EXPECT_EQ(Failure(Bridge(), {}, stop), FailureReason::kCancelled);
  EXPECT_EQ(Failure(MakeImage(400, 300, "PNG"), {}, stop), FailureReason::kCancelled);
}

TEST_F(ResizeTest, UnsetCancelFlagAndFutureDeadlineLetItFinish) {
  std::atomic<bool> cancel{false};
  const StopCheck stop{.deadline = std::chrono::steady_clock::now() + std::chrono::hours(1),
                       .cancel = &cancel};
  EXPECT_EQ(Failure(Bridge(), {}, stop), std::nullopt);
}

}  // namespace
}  // namespace sluice::worker
