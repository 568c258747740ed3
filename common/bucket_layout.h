// Where an upload lives in its bucket as it goes through Sluice. Each move is
// one rename, so an upload is in exactly one place at any moment:
//
//   pending/<path>   uploaded; no producer has taken it yet
//   claimed/<path>   a producer took it (the claim) and is sending its job
//   queued/<path>    its job is in the queue
//   originals/<path> a worker made its outputs, resized/<path>-<size>.<ext>
//
// Producer and worker must agree on these (docs/producer.md).
#ifndef SLUICE_COMMON_BUCKET_LAYOUT_H_
#define SLUICE_COMMON_BUCKET_LAYOUT_H_

namespace sluice::layout {

inline constexpr char kPending[] = "pending/";
inline constexpr char kClaimed[] = "claimed/";
inline constexpr char kQueued[] = "queued/";
inline constexpr char kOriginals[] = "originals/";
inline constexpr char kResized[] = "resized/";

}  // namespace sluice::layout

#endif  // SLUICE_COMMON_BUCKET_LAYOUT_H_
