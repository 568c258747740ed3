// sluice-fuzz-seeds SOURCE_DIR: writes the fuzz targets' seed corpora into
// SOURCE_DIR/tests/fuzz/corpus/<target>/ (replacing what is there) from the
// project's test data and real sessions with the broker. Run it after a
// change to the wire protocol, the log's format or the HTTP API, and commit
// what changed.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/fuzz/seeds.h"

namespace sluice::fuzz {

void WriteSeed(const std::filesystem::path& dir, std::string_view target, std::string_view name,
               std::string_view data) {
  std::filesystem::create_directories(dir / target);
  std::ofstream out(dir / target / name, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

}  // namespace sluice::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s SOURCE_DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path source = argv[1];
  const std::filesystem::path corpus = source / "tests" / "fuzz" / "corpus";
  for (const char* target :
       {"dispatch", "log_replay", "http_request", "sqs_decode", "s3_event", "image_sniff"}) {
    std::filesystem::remove_all(corpus / target);
  }
  sluice::fuzz::MakeDispatchSeeds(corpus);
  sluice::fuzz::MakeLogReplaySeeds(corpus);
  sluice::fuzz::MakeHttpSeeds(corpus);
  sluice::fuzz::MakeS3EventSeeds(corpus, source);
  sluice::fuzz::MakeImageSeeds(corpus, source);
  std::printf("seeds written under %s\n", corpus.c_str());
  return 0;
}
