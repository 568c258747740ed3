// Telling an image's format by its first bytes, and the names formats go by.
#include "worker/image_format.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::worker {
namespace {

TEST(SniffFormatTest, KnownSignatures) {
  EXPECT_EQ(SniffFormat(std::string("\xFF\xD8\xFF\xE0\x00\x10JFIF", 10)), ImageFormat::kJpeg);
  EXPECT_EQ(SniffFormat(std::string("\x89PNG\r\n\x1A\n\0\0\0\rIHDR", 16)), ImageFormat::kPng);
  EXPECT_EQ(SniffFormat("GIF87a\x01\x00"), ImageFormat::kGif);
  EXPECT_EQ(SniffFormat("GIF89a\x01\x00"), ImageFormat::kGif);
  EXPECT_EQ(SniffFormat(std::string("RIFF\x24\0\0\0WEBPVP8 ", 16)), ImageFormat::kWebp);
}

TEST(SniffFormatTest, SignaturesAloneAreEnough) {
  EXPECT_EQ(SniffFormat("\xFF\xD8\xFF"), ImageFormat::kJpeg);
  EXPECT_EQ(SniffFormat("\x89PNG\r\n\x1A\n"), ImageFormat::kPng);
  EXPECT_EQ(SniffFormat(std::string("RIFF\0\0\0\0WEBP", 12)), ImageFormat::kWebp);
}

TEST(SniffFormatTest, TruncatedSignaturesAreNotRecognised) {
  EXPECT_EQ(SniffFormat(""), std::nullopt);
  EXPECT_EQ(SniffFormat("\xFF\xD8"), std::nullopt);
  EXPECT_EQ(SniffFormat("\x89PNG\r\n\x1A"), std::nullopt);
  EXPECT_EQ(SniffFormat("GIF8"), std::nullopt);
  EXPECT_EQ(SniffFormat(std::string("RIFF\0\0\0\0WEB", 11)), std::nullopt);
}

// What a hostile upload named cat.jpg might hold: none may reach a coder.
TEST(SniffFormatTest, OtherFormatsAreNotRecognised) {
  EXPECT_EQ(SniffFormat("%!PS-Adobe-3.0\n"), std::nullopt);
  EXPECT_EQ(SniffFormat("<svg xmlns=\"http://www.w3.org/2000/svg\"/>"), std::nullopt);
  EXPECT_EQ(SniffFormat("<?xml version=\"1.0\"?><svg/>"), std::nullopt);
  EXPECT_EQ(SniffFormat("push graphic-context\nviewbox 0 0 640 480\n"), std::nullopt);
  EXPECT_EQ(SniffFormat("BM\x36\x00"), std::nullopt);                               // BMP
  EXPECT_EQ(SniffFormat(std::string("II*\0\x08\0\0\0", 8)), std::nullopt);          // TIFF
  EXPECT_EQ(SniffFormat(std::string("RIFF\x24\0\0\0WAVEfmt ", 16)), std::nullopt);  // WAV
  EXPECT_EQ(SniffFormat(std::string("\0\0\0\x1C"
                                    "ftypheic",
                                    12)),
            std::nullopt);  // HEIC
  EXPECT_EQ(SniffFormat("a JPEG, honestly"), std::nullopt);
  // The signature must be at the start, not anywhere.
  EXPECT_EQ(SniffFormat(" \xFF\xD8\xFF"), std::nullopt);
}

TEST(ParseFormatNameTest, NamesAndCase) {
  EXPECT_EQ(ParseFormatName("jpeg"), ImageFormat::kJpeg);
  EXPECT_EQ(ParseFormatName("jpg"), ImageFormat::kJpeg);
  EXPECT_EQ(ParseFormatName("JPG"), ImageFormat::kJpeg);
  EXPECT_EQ(ParseFormatName("Jpeg"), ImageFormat::kJpeg);
  EXPECT_EQ(ParseFormatName("png"), ImageFormat::kPng);
  EXPECT_EQ(ParseFormatName("WebP"), ImageFormat::kWebp);
  EXPECT_EQ(ParseFormatName("GIF"), ImageFormat::kGif);
}

TEST(ParseFormatNameTest, UnknownNames) {
  EXPECT_EQ(ParseFormatName(""), std::nullopt);
  EXPECT_EQ(ParseFormatName("tiff"), std::nullopt);
  EXPECT_EQ(ParseFormatName("svg"), std::nullopt);
  EXPECT_EQ(ParseFormatName(".jpg"), std::nullopt);
  EXPECT_EQ(ParseFormatName("jpeg "), std::nullopt);
  EXPECT_EQ(ParseFormatName(std::string("png\0", 4)), std::nullopt);
}

TEST(ImageFormatNamesTest, ExtensionsAndCoders) {
  EXPECT_STREQ(Extension(ImageFormat::kJpeg), "jpg");
  EXPECT_STREQ(Extension(ImageFormat::kPng), "png");
  EXPECT_STREQ(Extension(ImageFormat::kWebp), "webp");
  EXPECT_STREQ(Extension(ImageFormat::kGif), "gif");
  EXPECT_STREQ(CoderName(ImageFormat::kJpeg), "JPEG");
  EXPECT_STREQ(CoderName(ImageFormat::kPng), "PNG");
  EXPECT_STREQ(CoderName(ImageFormat::kWebp), "WEBP");
  EXPECT_STREQ(CoderName(ImageFormat::kGif), "GIF");
}

TEST(ImageFormatNamesTest, ExtensionParsesBackToItsFormat) {
  for (auto format :
       {ImageFormat::kJpeg, ImageFormat::kPng, ImageFormat::kWebp, ImageFormat::kGif}) {
    EXPECT_EQ(ParseFormatName(Extension(format)), format);
    EXPECT_EQ(ParseFormatName(CoderName(format)), format);
  }
}

}  // namespace
}  // namespace sluice::worker
