// Storage's three fsync modes: the syncer thread of --fsync always and its
// generations, the interval of --fsync interval, and --fsync never.
#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "broker/storage/storage.h"
#include "tests/unit/broker/storage/storage_test_util.h"

namespace sluice::testing {
namespace {

namespace fs = std::filesystem;

// --- Syncing ------------------------------------------------------------------------

TEST_F(StorageTest, ParseFsyncModeTakesTheThreeModes) {
  EXPECT_EQ(*ParseFsyncMode("always"), FsyncMode::kAlways);
  EXPECT_EQ(*ParseFsyncMode("interval"), FsyncMode::kInterval);
  EXPECT_EQ(*ParseFsyncMode("never"), FsyncMode::kNever);
  EXPECT_CODE(ParseFsyncMode("sometimes").status(), kInvalidArgument);
}

TEST_F(StorageTest, AlwaysModeSyncsOnTheSyncerThreadAndSignalsItsFd) {
  options_.fsync = FsyncMode::kAlways;
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_TRUE(storage_->SyncsEachCommit());
  ASSERT_OK(CreateQueue("q"));
  Commit();
  EXPECT_EQ(storage_->WrittenGeneration(), 1u);
  EXPECT_EQ(storage_->SyncedGeneration(), 0u);
  storage_->RequestSync();
  pollfd p{storage_->sync_fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 10'000), 1) << "the syncer never signalled";
  ASSERT_OK(storage_->FinishSync());
  EXPECT_EQ(storage_->SyncedGeneration(), 1u);
  // Nothing new written: no sync is started, nothing is signalled.
  storage_->RequestSync();
  EXPECT_EQ(::poll(&p, 1, 0), 0);
  // A commit with nothing to write is not a generation.
  Commit();
  EXPECT_EQ(storage_->WrittenGeneration(), 1u);
}

TEST_F(StorageTest, IntervalModeSyncsWhenTheIntervalHasPassed) {
  options_.fsync = FsyncMode::kInterval;
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_FALSE(storage_->SyncsEachCommit());
  EXPECT_FALSE(storage_->NextSync().has_value());
  ASSERT_OK(CreateQueue("q"));
  Commit();
  ASSERT_TRUE(storage_->NextSync().has_value());
  ASSERT_OK(storage_->SyncIfDue(Now()));  // never synced before: due
  EXPECT_FALSE(storage_->NextSync().has_value());

  Send("q", "m");
  Commit();
  EXPECT_EQ(storage_->NextSync(), Now() + Storage::kIntervalMs);
  ASSERT_OK(storage_->SyncIfDue(Now() + Storage::kIntervalMs - 1));
  EXPECT_EQ(storage_->NextSync(), Now() + Storage::kIntervalMs);
  ASSERT_OK(storage_->SyncIfDue(Now() + Storage::kIntervalMs));
  EXPECT_FALSE(storage_->NextSync().has_value());
  Commit();  // nothing written: nothing to sync
  EXPECT_FALSE(storage_->NextSync().has_value());
}

TEST_F(StorageTest, NeverModeNeverAsksForASync) {
  ASSERT_OK(CreateQueue("q"));
  Send("q", "m");
  Commit();
  EXPECT_FALSE(storage_->SyncsEachCommit());
  EXPECT_FALSE(storage_->NextSync().has_value());
}

// An fsync that fails (an I/O error, played by a fake disk) is reported by
// FinishSync and covers nothing.
TEST_F(StorageTest, AlwaysModeReportsAFailedFsyncAndCountsNothingSynced) {
  FakeDisk disk(uint64_t{1} << 40);
  options_.files = &disk;
  options_.fsync = FsyncMode::kAlways;
  ASSERT_NO_FATAL_FAILURE(Reopen());
  ASSERT_OK(CreateQueue("q"));
  Commit();
  disk.FailSyncs();
  storage_->RequestSync();
  pollfd p{storage_->sync_fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 10'000), 1) << "the syncer never signalled";
  Status finished = storage_->FinishSync();
  EXPECT_FALSE(finished.ok());
  EXPECT_NE(finished.detail().find(std::strerror(EIO)), std::string::npos) << finished.detail();
  EXPECT_EQ(storage_->SyncedGeneration(), 0u);
  Close();
}

}  // namespace
}  // namespace sluice::testing
