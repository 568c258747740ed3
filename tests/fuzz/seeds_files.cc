// The seeds made from files and images: s3_event's are the captured event
// bodies of tests/unit/common/s3/testdata, a body with records of several
// kinds, and ResizeJob bodies; image_sniff's are small images of each format
// the worker takes (made with tests/support/test_images.h), images that
// break the rules (a PNG bomb, a cut JPEG, a rotated one, an animated GIF),
// the first KiB of a sample photo, and formats that must be refused.
#include <filesystem>
#include <string>

#include "tests/fuzz/seeds.h"
#include "tests/support/test_images.h"

namespace sluice::fuzz {

void MakeS3EventSeeds(const std::filesystem::path& dir, const std::filesystem::path& source) {
  const std::filesystem::path testdata = source / "tests/unit/common/s3/testdata";
  for (const auto& e : std::filesystem::directory_iterator(testdata)) {
    if (e.path().extension() != ".json") continue;
    WriteSeed(dir, "s3_event", e.path().filename().string(), testing::ReadFile(e.path().string()));
  }
  WriteSeed(dir, "s3_event", "mixed_records.json",
            R"({"Records":[{"eventSource":"aws:s3","eventName":"ObjectRemoved:Delete",)"
            R"("s3":{"bucket":{"name":"photos"},"object":{"key":"pending/x.jpg"}}},)"
            R"({"eventSource":"minio:s3","eventName":"s3:ObjectCreated:Copy",)"
            R"("s3":{"bucket":{"name":"photos"},"object":{"key":"pending/a%2Fb+c.png",)"
            R"("eTag":"e","sequencer":"2"}}}]})");
  WriteSeed(dir, "s3_event", "resize_job.json",
            R"({"bucket":"photos","key":"pending/a/cat.jpg","sizes":[1000,200,1000],)"
            R"("format":"webp","quality":90,"outputPrefix":"thumbs/"})");
  WriteSeed(dir, "s3_event", "resize_job_defaults.json", R"({"bucket":"b","key":"c.png"})");
}

void MakeImageSeeds(const std::filesystem::path& dir, const std::filesystem::path& source) {
  testing::InitMagickForTests();
  for (const char* format : {"JPEG", "PNG", "WEBP", "GIF"}) {
    WriteSeed(dir, "image_sniff", std::string("small_") + format,
              testing::MakeImage(24, 16, format));
  }
  const std::string jpeg = testing::MakeImage(40, 30, "JPEG");
  WriteSeed(dir, "image_sniff", "rotated_jpeg", testing::WithExifOrientation(jpeg, 6));
  WriteSeed(dir, "image_sniff", "cut_jpeg", jpeg.substr(0, jpeg.size() / 2));
  WriteSeed(dir, "image_sniff", "animated_gif", testing::MakeAnimatedGif(8, 8));
  WriteSeed(dir, "image_sniff", "png_bomb", testing::MakePngBomb(100000, 100000));
  WriteSeed(dir, "image_sniff", "photo_head",
            testing::ReadFile((source / "examples/pending/bridge.jpg").string()).substr(0, 1024));
  WriteSeed(dir, "image_sniff", "svg",
            R"(<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>)");
  WriteSeed(dir, "image_sniff", "postscript", "%!PS-Adobe-3.0\nshowpage\n");
}

}  // namespace sluice::fuzz
