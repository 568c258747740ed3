#include "worker/magick_setup.h"

#include "worker/magick.h"

namespace sluice::worker {

const char kMagickPolicyXml[] = R"(<policymap>
  <policy domain="delegate" rights="none" pattern="*"/>
  <policy domain="filter" rights="none" pattern="*"/>
  <policy domain="path" rights="none" pattern="@*"/>
  <policy domain="coder" rights="none" pattern="*"/>
  <policy domain="coder" rights="read|write" pattern="{JPEG,PNG,WEBP,GIF}"/>
</policymap>)";

std::string ConfigureImageMagick(const MagickLimits& limits) {
  MagickCore::ExceptionInfo* exception = MagickCore::AcquireExceptionInfo();
  const bool ok =
      MagickCore::SetMagickSecurityPolicy(kMagickPolicyXml, exception) == MagickCore::MagickTrue;
  std::string error;
  if (!ok) {
    error = std::string("cannot install the ImageMagick policy: ") +
            (exception->reason != nullptr ? exception->reason : "unknown reason");
  }
  MagickCore::DestroyExceptionInfo(exception);
  if (!ok) return error;
  Magick::ResourceLimits::memory(limits.memory_bytes);
  Magick::ResourceLimits::map(limits.memory_bytes);
  // Pixels (8 bytes each at 16 bits per channel, RGBA) that fit in memory.
  Magick::ResourceLimits::area(limits.memory_bytes / 8);
  // No pixel cache on disk: an image too large for memory fails fast instead
  // of grinding through a temporary file.
  Magick::ResourceLimits::disk(0);
  Magick::ResourceLimits::width(limits.max_dimension);
  Magick::ResourceLimits::height(limits.max_dimension);
  Magick::ResourceLimits::listLength(32);  // we read one frame; clones count too
  Magick::ResourceLimits::thread(limits.threads == 0 ? 1 : limits.threads);
  return "";
}

}  // namespace sluice::worker
