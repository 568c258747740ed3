// Magick++, for every file of ours that uses it. Magick++'s headers include
// <assert.h> inside namespace MagickCore, so when they come first, a later
// assert() (in protobuf's headers, say) finds __assert_fail only in that
// namespace and a build without NDEBUG fails. Including <cassert> first puts
// it where it belongs.
#ifndef SLUICE_WORKER_MAGICK_H_
#define SLUICE_WORKER_MAGICK_H_

// The order is the point.
// clang-format off
#include <cassert>
#include <Magick++.h>
// clang-format on

#endif  // SLUICE_WORKER_MAGICK_H_
