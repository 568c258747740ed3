// The Syncer on its own, with a sync function of the test's: generations,
// the eventfd's signal, an fsync that fails, and a request made while an
// fsync runs starting the next at once.
#include "broker/storage/syncer.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "broker/storage/storage_status.h"

namespace sluice {
namespace {

// Waits until the syncer's fd is readable; false after five seconds.
bool WaitForSignal(const Syncer& syncer) {
  pollfd p{syncer.fd(), POLLIN, 0};
  return ::poll(&p, 1, 5000) == 1;
}

TEST(SyncerTest, NothingWrittenAsksForNoSync) {
  std::atomic<int> syncs = 0;
  auto syncer = Syncer::Create([&] {
    ++syncs;
    return Status::Ok();
  });
  ASSERT_TRUE(syncer.ok()) << syncer.status().detail();
  (*syncer)->Request();
  pollfd p{(*syncer)->fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 50), 0);
  EXPECT_EQ(syncs, 0);
  EXPECT_TRUE((*syncer)->Finish().ok());
}

TEST(SyncerTest, SyncCoversWhatWasWrittenWhenRequestedAndSignalsItsFd) {
  std::atomic<int> syncs = 0;
  auto syncer = Syncer::Create([&] {
    ++syncs;
    return Status::Ok();
  });
  ASSERT_TRUE(syncer.ok());
  Syncer& s = **syncer;
  s.Wrote();
  s.Wrote();
  EXPECT_EQ(s.written(), 2u);
  EXPECT_EQ(s.synced(), 0u);
  s.Request();
  s.Request();  // the same generation: no second fsync
  ASSERT_TRUE(WaitForSignal(s));
  ASSERT_TRUE(s.Finish().ok());
  EXPECT_EQ(s.synced(), 2u);
  EXPECT_EQ(syncs, 1);
}

TEST(SyncerTest, FailedSyncIsReportedAndCoversNothing) {
  auto syncer = Syncer::Create([] { return Status(StatusCode::kIOError, "disk gone"); });
  ASSERT_TRUE(syncer.ok());
  Syncer& s = **syncer;
  s.Wrote();
  s.Request();
  ASSERT_TRUE(WaitForSignal(s));
  Status finished = s.Finish();
  EXPECT_FALSE(finished.ok());
  EXPECT_EQ(finished.detail(), "disk gone");
  EXPECT_EQ(s.synced(), 0u);
}

TEST(SyncerTest, RequestWhileASyncRunsStartsTheNextRightAfterIt) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  int syncs = 0;  // guarded by mu
  auto syncer = Syncer::Create([&] {
    std::unique_lock lock(mu);
    ++syncs;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    return Status::Ok();
  });
  ASSERT_TRUE(syncer.ok());
  Syncer& s = **syncer;
  s.Wrote();
  s.Request();
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return syncs == 1; });
  }
  // Written while the first fsync runs, and asked for before the loop heard
  // of it.
  s.Wrote();
  s.Request();
  {
    std::unique_lock lock(mu);
    release = true;
    cv.notify_all();
    cv.wait(lock, [&] { return syncs == 2; });
  }
  // The second has ended once the fd has been signalled for it: wait for
  // Finish to see generation 2.
  for (int i = 0; i < 100 && s.synced() < 2; ++i) {
    ASSERT_TRUE(WaitForSignal(s));
    ASSERT_TRUE(s.Finish().ok());
  }
  EXPECT_EQ(s.synced(), 2u);
}

}  // namespace
}  // namespace sluice
