// Where an upload lives in its bucket as it goes through Sluice. Each move is
// one rename, so an upload is in exactly one place at any moment:
//
//   pending/<path>   uploaded; no producer has taken it yet
//   queued/<path>    a producer took it (the claim); its job is in the queue,
//                    or being sent if no journal in queued/.sluice-sent/
//                    names it yet (producer/enqueue/sent_journal.h)
//   originals/<path> a worker made its outputs, resized/<path>-<size>.<ext>
//
// claimed/<path> is where producers before the sent journal kept an upload
// while sending its job; workers still look there (worker/job.h), so an
// upload an older producer left there is not missed.
//
// Producer and worker must agree on these (docs/producer.md).
#ifndef SLUICE_COMMON_BUCKET_LAYOUT_H_
#define SLUICE_COMMON_BUCKET_LAYOUT_H_

namespace sluice::layout {

inline constexpr char kPending[] = "pending/";
inline constexpr char kClaimed[] = "claimed/";
inline constexpr char kQueued[] = "queued/";
// Each producer's journal of acknowledged sends; a dot-directory, so no
// listing of queued/ takes it for uploads.
inline constexpr char kSentJournals[] = "queued/.sluice-sent/";
inline constexpr char kOriginals[] = "originals/";
inline constexpr char kResized[] = "resized/";

}  // namespace sluice::layout

#endif  // SLUICE_COMMON_BUCKET_LAYOUT_H_
