// Process-wide ImageMagick set-up for the worker: a security policy that
// allows only the coders we use (no delegates, no filters, no indirect "@file"
// reads: the ImageTragick class of attacks), resource limits, and the number
// of threads ImageMagick's OpenMP loops may use. Call once, before any image
// work and after Magick::InitializeMagick.
#ifndef SLUICE_WORKER_MAGICK_SETUP_H_
#define SLUICE_WORKER_MAGICK_SETUP_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace sluice::worker {

struct MagickLimits {
  uint64_t memory_bytes = 512ull << 20;  // pixel cache in memory, all jobs together
  uint64_t max_dimension = 16'384;       // width or height, as Debian's policy.xml
  size_t threads = 1;                    // ImageMagick's own threads per operation
};

// The policy handed to ImageMagick (policy.xml syntax); also installed in the
// container image as policy.xml so that `convert` there is held to it.
extern const char kMagickPolicyXml[];

// Returns "" on success, else what failed.
std::string ConfigureImageMagick(const MagickLimits& limits);

}  // namespace sluice::worker

#endif  // SLUICE_WORKER_MAGICK_SETUP_H_
