// DirectoryStore on a real directory: keys stay inside their bucket whatever
// symlinks the tree holds, reads refuse what is not a regular file, and
// writes are whole or absent.
#include "worker/store/directory_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/test_images.h"

namespace sluice::worker {
namespace {

namespace fs = std::filesystem;
using sluice::testing::ReadFile;
using sluice::testing::WriteFile;

constexpr size_t kNoLimit = 1 << 20;

// Key names: what is valid or not before any I/O.

// A key of exactly `bytes` bytes, in components of up to 100.
std::string KeyOfLength(size_t bytes) {
  std::string key;
  while (key.size() < bytes) {
    if (!key.empty()) key += '/';
    key += std::string(std::min<size_t>(100, bytes - key.size()), 'k');
  }
  return key;
}

TEST(IsValidKeyTest, OrdinaryKeys) {
  EXPECT_TRUE(IsValidKey("cat.jpg"));
  EXPECT_TRUE(IsValidKey("pending/2026/cat.jpg"));
  EXPECT_TRUE(IsValidKey("a/.hidden"));
  EXPECT_TRUE(IsValidKey("a/..b/c..d"));
  EXPECT_TRUE(IsValidKey("my photo(1).jpg"));
  EXPECT_TRUE(IsValidKey(KeyOfLength(1024)));
}

TEST(IsValidKeyTest, KeysThatCouldLeaveTheBucket) {
  EXPECT_FALSE(IsValidKey(""));
  EXPECT_FALSE(IsValidKey("/etc/passwd"));
  EXPECT_FALSE(IsValidKey(".."));
  EXPECT_FALSE(IsValidKey("../other/cat.jpg"));
  EXPECT_FALSE(IsValidKey("a/../../cat.jpg"));
  EXPECT_FALSE(IsValidKey("a/.."));
  EXPECT_FALSE(IsValidKey("."));
  EXPECT_FALSE(IsValidKey("./cat.jpg"));
  EXPECT_FALSE(IsValidKey("a/./cat.jpg"));
}

TEST(IsValidKeyTest, MalformedKeys) {
  EXPECT_FALSE(IsValidKey("a//cat.jpg"));
  EXPECT_FALSE(IsValidKey("a/"));
  EXPECT_FALSE(IsValidKey("/"));
  EXPECT_FALSE(IsValidKey(std::string("cat.jpg\0.png", 12)));
  EXPECT_FALSE(IsValidKey(KeyOfLength(1025)));
}

// Each component is a file name, and no file name is longer than 255 bytes.
TEST(IsValidKeyTest, ComponentsFitInAFileName) {
  EXPECT_TRUE(IsValidKey("a/" + std::string(255, 'n') + "/b"));
  EXPECT_FALSE(IsValidKey("a/" + std::string(256, 'n') + "/b"));
  EXPECT_FALSE(IsValidKey(std::string(256, 'n')));
}

TEST(IsValidBucketNameTest, Names) {
  EXPECT_TRUE(IsValidBucketName("photos"));
  EXPECT_TRUE(IsValidBucketName("my-bucket.v2_x"));
  EXPECT_FALSE(IsValidBucketName(""));
  EXPECT_FALSE(IsValidBucketName("."));
  EXPECT_FALSE(IsValidBucketName(".."));
  EXPECT_FALSE(IsValidBucketName("a/b"));
  EXPECT_FALSE(IsValidBucketName("/photos"));
  EXPECT_FALSE(IsValidBucketName("photos "));
  EXPECT_FALSE(IsValidBucketName(std::string("ph\0tos", 6)));
  EXPECT_FALSE(IsValidBucketName(std::string(256, 'b')));
}

// A store over a fresh temporary directory holding the buckets "photos" and
// "other-bucket", and "outside", a directory that is no bucket's.
class DirectoryStoreTest : public ::testing::Test {
 protected:
  DirectoryStoreTest() {
    std::string pattern = (fs::temp_directory_path() / "sluice-bucket-test-XXXXXX").string();
    EXPECT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    fs::create_directories(root_ / "photos");
    fs::create_directories(root_ / "other-bucket");
    fs::create_directories(root_ / "outside");
    store_ = std::make_unique<DirectoryStore>(root_.string());
  }
  ~DirectoryStoreTest() override { fs::remove_all(root_); }

  fs::path Bucket() const { return root_ / "photos"; }
  fs::path Outside() const { return root_ / "outside"; }
  void Put(const std::string& key, const std::string& data) {
    WriteFile((Bucket() / key).string(), data);
  }
  void Symlink(const std::string& target, const std::string& key) {
    fs::create_directories((Bucket() / key).parent_path());
    fs::create_symlink(target, Bucket() / key);
  }
  // Every name under `dir`, relative to it, sorted.
  static std::vector<std::string> List(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      names.push_back(fs::relative(entry.path(), dir).string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  std::optional<FailureReason> ReadFailure(const std::string& key, size_t max = kNoLimit) {
    auto got = store_->Read("photos", key, max);
    if (got.ok()) return std::nullopt;
    return got.error().reason;
  }

  fs::path root_;
  std::unique_ptr<DirectoryStore> store_;
};

// --- Read ---------------------------------------------------------------------

TEST_F(DirectoryStoreTest, ReadsARegularFile) {
  const std::string data("bytes\0and more", 14);
  Put("pending/a/cat.jpg", data);
  auto got = store_->Read("photos", "pending/a/cat.jpg", kNoLimit);
  ASSERT_TRUE(got.ok()) << got.error().detail;
  EXPECT_EQ(*got, data);
}

TEST_F(DirectoryStoreTest, ReadsAnEmptyFile) {
  Put("empty", "");
  auto got = store_->Read("photos", "empty", kNoLimit);
  ASSERT_TRUE(got.ok()) << got.error().detail;
  EXPECT_EQ(*got, "");
}

TEST_F(DirectoryStoreTest, MissingKeyIsNoSuchKey) {
  EXPECT_EQ(ReadFailure("pending/missing.jpg"), FailureReason::kNoSuchKey);
  Put("pending/there.jpg", "x");
  EXPECT_EQ(ReadFailure("pending/missing.jpg"), FailureReason::kNoSuchKey);
}

TEST_F(DirectoryStoreTest, MissingBucketIsNoSuchKey) {
  auto got = store_->Read("no-such-bucket", "cat.jpg", kNoLimit);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().reason, FailureReason::kNoSuchKey);
}

TEST_F(DirectoryStoreTest, InvalidBucketOrKeyIsInvalidKey) {
  Put("cat.jpg", "x");
  auto bad_bucket = store_->Read("..", "photos/cat.jpg", kNoLimit);
  ASSERT_FALSE(bad_bucket.ok());
  EXPECT_EQ(bad_bucket.error().reason, FailureReason::kInvalidKey);
  EXPECT_EQ(ReadFailure("../photos/cat.jpg"), FailureReason::kInvalidKey);
  EXPECT_EQ(ReadFailure(root_.string() + "/photos/cat.jpg"), FailureReason::kInvalidKey);
}

TEST_F(DirectoryStoreTest, SymlinkThatStaysInTheBucketIsFollowed) {
  Put("pending/real.jpg", "real");
  Symlink("../pending/real.jpg", "aliases/alias.jpg");
  auto got = store_->Read("photos", "aliases/alias.jpg", kNoLimit);
  ASSERT_TRUE(got.ok()) << got.error().detail;
  EXPECT_EQ(*got, "real");
}

TEST_F(DirectoryStoreTest, SymlinkToAnAbsolutePathOutsideIsInvalidKey) {
  Symlink("/etc/hostname", "hostname.jpg");
  EXPECT_EQ(ReadFailure("hostname.jpg"), FailureReason::kInvalidKey);
  WriteFile((Outside() / "secret").string(), "secret");
  Symlink((Outside() / "secret").string(), "secret.jpg");
  EXPECT_EQ(ReadFailure("secret.jpg"), FailureReason::kInvalidKey);
}

TEST_F(DirectoryStoreTest, SymlinkIntoAnotherBucketIsInvalidKey) {
  WriteFile((root_ / "other-bucket" / "x").string(), "theirs");
  Symlink("../other-bucket/x", "x.jpg");
  EXPECT_EQ(ReadFailure("x.jpg"), FailureReason::kInvalidKey);
  Symlink("../../other-bucket/x", "deeper/x.jpg");
  EXPECT_EQ(ReadFailure("deeper/x.jpg"), FailureReason::kInvalidKey);
}

TEST_F(DirectoryStoreTest, DirectorySymlinkLeavingTheBucketIsInvalidKey) {
  WriteFile((Outside() / "secret.jpg").string(), "secret");
  Symlink(Outside().string(), "pending/escape");
  EXPECT_EQ(ReadFailure("pending/escape/secret.jpg"), FailureReason::kInvalidKey);
  Symlink("../../outside", "pending/relative-escape");
  EXPECT_EQ(ReadFailure("pending/relative-escape/secret.jpg"), FailureReason::kInvalidKey);
}

TEST_F(DirectoryStoreTest, ReadingADirectoryIsInvalidKey) {
  Put("pending/dir/cat.jpg", "x");
  EXPECT_EQ(ReadFailure("pending/dir"), FailureReason::kInvalidKey);
}

// A FIFO would block an ordinary open (and a read) until a writer came.
TEST_F(DirectoryStoreTest, ReadingAFifoIsInvalidKeyAndDoesNotBlock) {
  fs::create_directories(Bucket() / "pending");
  ASSERT_EQ(mkfifo((Bucket() / "pending" / "pipe.jpg").c_str(), 0644), 0);
  EXPECT_EQ(ReadFailure("pending/pipe.jpg"), FailureReason::kInvalidKey);
}

TEST_F(DirectoryStoreTest, KeyThroughAFileIsNotFoundOrInvalid) {
  Put("pending/cat.jpg", "x");
  // "cat.jpg" is not a directory: ENOTDIR, which a job cannot fix.
  EXPECT_EQ(ReadFailure("pending/cat.jpg/inner"), FailureReason::kInvalidKey);
}

TEST_F(DirectoryStoreTest, OverTheByteLimitIsTooLarge) {
  Put("big.jpg", std::string(100, 'b'));
  EXPECT_EQ(ReadFailure("big.jpg", 99), FailureReason::kTooLarge);
  auto exactly = store_->Read("photos", "big.jpg", 100);
  ASSERT_TRUE(exactly.ok()) << exactly.error().detail;
  EXPECT_EQ(exactly->size(), 100u);
}

// The temporary file's name must fit in a file name too.
TEST_F(DirectoryStoreTest, WriteOfTheLongestFileName) {
  const std::string key = "resized/" + std::string(255, 'n');
  auto written = store_->Write("photos", key, "long");
  ASSERT_TRUE(written.ok()) << written.error().detail;
  EXPECT_EQ(ReadFile((Bucket() / key).string()), "long");
  EXPECT_EQ(List(Bucket()), (std::vector<std::string>{"resized", key}));
}

// No retry can make a name fit: permanent, not a storage failure.
TEST_F(DirectoryStoreTest, KeyWithAComponentLongerThanAFileNameIsInvalidKey) {
  const std::string key = "resized/" + std::string(256, 'n');
  EXPECT_EQ(ReadFailure(key), FailureReason::kInvalidKey);
  auto written = store_->Write("photos", key, "x");
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().reason, FailureReason::kInvalidKey);
}

// --- Write --------------------------------------------------------------------

TEST_F(DirectoryStoreTest, WriteCreatesDirectoriesAndLeavesNoTemporaryFiles) {
  constexpr char kBytes[] = "\xFF\xD8\xFF image \0 bytes";  // with a NUL inside
  const std::string data(kBytes, sizeof kBytes - 1);
  auto written = store_->Write("photos", "resized/a/b/cat-200.jpg", data);
  ASSERT_TRUE(written.ok()) << written.error().detail;
  EXPECT_EQ(ReadFile((Bucket() / "resized/a/b/cat-200.jpg").string()), data);
  EXPECT_EQ(List(Bucket()), (std::vector<std::string>{"resized", "resized/a", "resized/a/b",
                                                      "resized/a/b/cat-200.jpg"}));
}

// Renaming over a directory can never work: the job's fault, not a retry.
TEST_F(DirectoryStoreTest, WriteOverADirectoryIsInvalidKeyAndLeavesNoTemporaryFile) {
  fs::create_directories(Bucket() / "resized/cat-200.jpg/inside");
  auto written = store_->Write("photos", "resized/cat-200.jpg", "data");
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().reason, FailureReason::kInvalidKey);
  EXPECT_EQ(List(Bucket()), (std::vector<std::string>{"resized", "resized/cat-200.jpg",
                                                      "resized/cat-200.jpg/inside"}));
}

TEST_F(DirectoryStoreTest, WriteAtTheTopOfTheBucket) {
  auto written = store_->Write("photos", "top.jpg", "top");
  ASSERT_TRUE(written.ok()) << written.error().detail;
  EXPECT_EQ(ReadFile((Bucket() / "top.jpg").string()), "top");
  EXPECT_EQ(List(Bucket()), (std::vector<std::string>{"top.jpg"}));
}

// The new object is renamed over the old one: a reader that has the old one
// open (here: a second link to it) keeps all of the old bytes.
TEST_F(DirectoryStoreTest, WriteReplacesAtomically) {
  Put("resized/cat.jpg", "old contents");
  fs::create_hard_link(Bucket() / "resized/cat.jpg", Outside() / "old-link");
  auto written = store_->Write("photos", "resized/cat.jpg", "new");
  ASSERT_TRUE(written.ok()) << written.error().detail;
  EXPECT_EQ(ReadFile((Bucket() / "resized/cat.jpg").string()), "new");
  EXPECT_EQ(ReadFile((Outside() / "old-link").string()), "old contents");
  EXPECT_EQ(List(Bucket()), (std::vector<std::string>{"resized", "resized/cat.jpg"}));
}

TEST_F(DirectoryStoreTest, WriteThroughADirectorySymlinkLeavingTheBucketIsInvalidKey) {
  Symlink(Outside().string(), "resized");
  auto absolute = store_->Write("photos", "resized/cat.jpg", "x");
  ASSERT_FALSE(absolute.ok());
  EXPECT_EQ(absolute.error().reason, FailureReason::kInvalidKey);
  auto deeper = store_->Write("photos", "resized/new/dir/cat.jpg", "x");
  ASSERT_FALSE(deeper.ok());
  EXPECT_EQ(deeper.error().reason, FailureReason::kInvalidKey);

  Symlink("../../other-bucket", "thumbs/escape");
  auto relative = store_->Write("photos", "thumbs/escape/cat.jpg", "x");
  ASSERT_FALSE(relative.ok());
  EXPECT_EQ(relative.error().reason, FailureReason::kInvalidKey);

  EXPECT_TRUE(List(Outside()).empty());
  EXPECT_TRUE(List(root_ / "other-bucket").empty());
}

// A symlink at the key itself is replaced, not written through.
TEST_F(DirectoryStoreTest, WriteReplacesASymlinkAtTheKey) {
  WriteFile((Outside() / "victim").string(), "untouched");
  Symlink((Outside() / "victim").string(), "resized/cat.jpg");
  auto written = store_->Write("photos", "resized/cat.jpg", "new");
  ASSERT_TRUE(written.ok()) << written.error().detail;
  EXPECT_FALSE(fs::is_symlink(Bucket() / "resized/cat.jpg"));
  EXPECT_EQ(ReadFile((Bucket() / "resized/cat.jpg").string()), "new");
  EXPECT_EQ(ReadFile((Outside() / "victim").string()), "untouched");
}

TEST_F(DirectoryStoreTest, WriteOfAnInvalidKeyTouchesNothing) {
  auto written = store_->Write("photos", "../outside/cat.jpg", "x");
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().reason, FailureReason::kInvalidKey);
  EXPECT_TRUE(List(Outside()).empty());
  EXPECT_TRUE(List(Bucket()).empty());
}

TEST_F(DirectoryStoreTest, WriteToAMissingBucketIsNoSuchKey) {
  auto written = store_->Write("no-such-bucket", "cat.jpg", "x");
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().reason, FailureReason::kNoSuchKey);
  EXPECT_FALSE(fs::exists(root_ / "no-such-bucket"));
}

// --- Move ---------------------------------------------------------------------

TEST_F(DirectoryStoreTest, MoveCreatesDirectoriesAndRemovesTheSource) {
  Put("pending/a/cat.jpg", "original");
  auto moved = store_->Move("photos", "pending/a/cat.jpg", "originals/a/cat.jpg");
  ASSERT_TRUE(moved.ok()) << moved.error().detail;
  EXPECT_FALSE(fs::exists(Bucket() / "pending/a/cat.jpg"));
  EXPECT_EQ(ReadFile((Bucket() / "originals/a/cat.jpg").string()), "original");
}

TEST_F(DirectoryStoreTest, MoveReplacesTheDestination) {
  Put("pending/cat.jpg", "new");
  Put("originals/cat.jpg", "old");
  auto moved = store_->Move("photos", "pending/cat.jpg", "originals/cat.jpg");
  ASSERT_TRUE(moved.ok()) << moved.error().detail;
  EXPECT_EQ(ReadFile((Bucket() / "originals/cat.jpg").string()), "new");
  EXPECT_FALSE(fs::exists(Bucket() / "pending/cat.jpg"));
}

TEST_F(DirectoryStoreTest, MoveOfAMissingKeyIsNoSuchKey) {
  Put("pending/other.jpg", "x");
  auto moved = store_->Move("photos", "pending/cat.jpg", "originals/cat.jpg");
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.error().reason, FailureReason::kNoSuchKey);
  auto no_dir = store_->Move("photos", "nowhere/cat.jpg", "originals/cat.jpg");
  ASSERT_FALSE(no_dir.ok());
  EXPECT_EQ(no_dir.error().reason, FailureReason::kNoSuchKey);
  EXPECT_FALSE(fs::exists(Bucket() / "originals/cat.jpg"));
}

TEST_F(DirectoryStoreTest, MoveOutOfTheBucketIsInvalidKey) {
  Put("pending/cat.jpg", "x");
  Symlink(Outside().string(), "originals");
  auto moved = store_->Move("photos", "pending/cat.jpg", "originals/cat.jpg");
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.error().reason, FailureReason::kInvalidKey);
  EXPECT_TRUE(fs::exists(Bucket() / "pending/cat.jpg"));
  EXPECT_TRUE(List(Outside()).empty());
}

// A dangling symlink where a directory must be made is the key's fault; it
// must not look like a missing source (JobRunner then takes the original as
// moved by another delivery and leaves it where it is).
TEST_F(DirectoryStoreTest, DanglingSymlinkInTheWayOfADirectoryIsInvalidKey) {
  Put("pending/cat.jpg", "x");
  Symlink("missing", "originals");
  auto moved = store_->Move("photos", "pending/cat.jpg", "originals/cat.jpg");
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.error().reason, FailureReason::kInvalidKey) << moved.error().detail;
  EXPECT_TRUE(fs::exists(Bucket() / "pending/cat.jpg"));
  Symlink("../nowhere", "resized/a");
  auto written = store_->Write("photos", "resized/a/cat.jpg", "x");
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().reason, FailureReason::kInvalidKey) << written.error().detail;
}

}  // namespace
}  // namespace sluice::worker
