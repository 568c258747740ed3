// Unit tests of the producer's pieces that need no broker: which names are
// uploads, the job message (deduplication id, message group, JSON body), the
// claim renames of BucketUploads and the sent journal on a temporary
// directory, and the inotify watcher on one.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/bucket_layout.h"
#include "common/digest.h"
#include "producer/enqueue/job_message.h"
#include "producer/enqueue/sent_journal.h"
#include "producer/enqueue/upload_watcher.h"
#include "producer/enqueue/uploads.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// --- IsTemporaryName ---------------------------------------------------------

TEST(IsTemporaryNameTest, OrdinaryNamesAreUploads) {
  for (const char* name : {"cat.jpg", "IMG_0001.JPG", "a", "part.jpg", "tmp", "cat.tmp.jpg",
                           "cat.part.jpg", "swp", "my photo (1).jpeg", "x~y.png"}) {
    EXPECT_FALSE(IsTemporaryName(name)) << name;
  }
}

TEST(IsTemporaryNameTest, TemporaryNamesAreNot) {
  for (const char* name : {"", ".cat.jpg", ".", ".x.tmp", "cat.jpg.part", "cat.tmp", "cat.partial",
                           "cat.jpg.crdownload", ".cat.jpg.swp", "cat.swp", "cat.jpg~", "~"}) {
    EXPECT_TRUE(IsTemporaryName(name)) << "'" << name << "'";
  }
}

// --- DeduplicationId -----------------------------------------------------------

const Upload kCat = {"alice/cat.jpg", 1234, 1'700'000'000'123'456'789, 42};

TEST(DeduplicationIdTest, SameUploadSameIdAndItIsASha256) {
  const std::string id = DeduplicationId("photos", kCat);
  EXPECT_EQ(id, DeduplicationId("photos", Upload(kCat)));
  ASSERT_EQ(id.size(), 64u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
}

TEST(DeduplicationIdTest, EveryPartOfTheUploadChangesIt) {
  const std::string id = DeduplicationId("photos", kCat);
  std::set<std::string> ids = {id};
  Upload u = kCat;
  u.size = 1235;
  ids.insert(DeduplicationId("photos", u));
  u = kCat;
  u.mtime_ns += 1;  // rewritten within the same second
  ids.insert(DeduplicationId("photos", u));
  u = kCat;
  u.inode = 43;  // replaced by a new file of the same size and time
  ids.insert(DeduplicationId("photos", u));
  u = kCat;
  u.path = "bob/cat.jpg";
  ids.insert(DeduplicationId("photos", u));
  ids.insert(DeduplicationId("other", kCat));
  EXPECT_EQ(ids.size(), 6u);
}

TEST(DeduplicationIdTest, FieldsDoNotRunIntoEachOther) {
  // Without separators "ab" + "c.jpg" and "a" + "bc.jpg" would hash alike.
  Upload u = kCat;
  u.path = "c.jpg";
  Upload v = kCat;
  v.path = "bc.jpg";
  EXPECT_NE(DeduplicationId("ab", u), DeduplicationId("a", v));
  Upload big = kCat;
  big.size = 12;
  big.mtime_ns = 34;
  Upload other = kCat;
  other.size = 1;
  other.mtime_ns = 234;
  EXPECT_NE(DeduplicationId("photos", big), DeduplicationId("photos", other));
}

// --- MessageGroupId --------------------------------------------------------------

JobTemplate Template(GroupBy group_by) {
  JobTemplate job;
  job.bucket = "photos";
  job.fifo = true;
  job.group_by = group_by;
  return job;
}

Upload At(const std::string& path) { return Upload{path, 1, 2, 3}; }

TEST(MessageGroupIdTest, FolderIsTheTopFolderOrTheBucketForTopLevelFiles) {
  const JobTemplate job = Template(GroupBy::kFolder);
  EXPECT_EQ(MessageGroupId(job, At("alice/2026/cat.jpg")), "alice");
  EXPECT_EQ(MessageGroupId(job, At("alice/cat.jpg")), "alice");
  EXPECT_EQ(MessageGroupId(job, At("bob/dog.jpg")), "bob");
  EXPECT_EQ(MessageGroupId(job, At("cat.jpg")), "photos");
}

TEST(MessageGroupIdTest, BucketIsOneGroupForAll) {
  const JobTemplate job = Template(GroupBy::kBucket);
  EXPECT_EQ(MessageGroupId(job, At("alice/2026/cat.jpg")), "photos");
  EXPECT_EQ(MessageGroupId(job, At("cat.jpg")), "photos");
}

TEST(MessageGroupIdTest, KeyIsTheWholePath) {
  const JobTemplate job = Template(GroupBy::kKey);
  EXPECT_EQ(MessageGroupId(job, At("alice/2026/cat.jpg")), "alice/2026/cat.jpg");
  EXPECT_EQ(MessageGroupId(job, At("cat.jpg")), "cat.jpg");
}

TEST(MessageGroupIdTest, NonPrintableAndNonAsciiBytesBecomeUnderscores) {
  // A group id is printable ASCII without spaces; a folder name may be anything.
  EXPECT_EQ(MessageGroupId(Template(GroupBy::kFolder), At("my photos/cat.jpg")), "my_photos");
  EXPECT_EQ(MessageGroupId(Template(GroupBy::kFolder), At("tab\there/cat.jpg")), "tab_here");
  EXPECT_EQ(MessageGroupId(Template(GroupBy::kFolder), At("caf\xc3\xa9/cat.jpg")), "caf__");
  EXPECT_EQ(MessageGroupId(Template(GroupBy::kKey), At("a b/\x7f.jpg")), "a_b/_.jpg");
  JobTemplate job = Template(GroupBy::kBucket);
  job.bucket = "my bucket";
  EXPECT_EQ(MessageGroupId(job, At("cat.jpg")), "my_bucket");
}

TEST(MessageGroupIdTest, LongerThan128CharactersBecomesItsHash) {
  const JobTemplate job = Template(GroupBy::kKey);
  const std::string just_fits(128, 'a');
  EXPECT_EQ(MessageGroupId(job, At(just_fits)), just_fits);
  const std::string too_long = std::string(100, 'a') + "/" + std::string(100, 'b') + ".jpg";
  const std::string id = MessageGroupId(job, At(too_long));
  EXPECT_EQ(id, Sha256Hex(too_long));
  EXPECT_EQ(id.size(), 64u);
  // Two long paths that differ only in a replaced byte stay apart.
  EXPECT_NE(MessageGroupId(job, At(std::string(200, 'a') + " ")),
            MessageGroupId(job, At(std::string(200, 'a') + "_")));
}

// --- JobMessage ----------------------------------------------------------------------

TEST(JobMessageTest, BodyNamesThePendingKeyAndLeavesOptionsToTheWorker) {
  JobTemplate job;
  job.bucket = "photos";
  const Upload upload = {"alice/cat.jpg", 10, 20, 30};
  const pb::SendMessageEntry entry = JobMessage(job, upload);
  const json body = json::parse(entry.body());
  EXPECT_EQ(body, (json{{"bucket", "photos"}, {"key", "pending/alice/cat.jpg"}})) << body.dump();
  EXPECT_EQ(entry.message_deduplication_id(), DeduplicationId("photos", upload));
  EXPECT_EQ(entry.message_group_id(), "") << "a standard queue takes no group id";
}

TEST(JobMessageTest, BodyCarriesSizesFormatAndQuality) {
  JobTemplate job;
  job.bucket = "photos";
  job.sizes = {1000, 200};
  job.format = "png";
  job.quality = 80;
  const pb::SendMessageEntry entry = JobMessage(job, At("top.jpg"));
  const json body = json::parse(entry.body());
  EXPECT_EQ(body["bucket"], "photos");
  EXPECT_EQ(body["key"], "pending/top.jpg");
  EXPECT_EQ(body["sizes"], json::array({1000, 200}));
  EXPECT_EQ(body["format"], "png");
  EXPECT_EQ(body["quality"], 80);
  EXPECT_EQ(body.size(), 5u) << body.dump();
}

TEST(JobMessageTest, FifoQueueGetsTheGroupId) {
  JobTemplate job = Template(GroupBy::kFolder);
  const pb::SendMessageEntry entry = JobMessage(job, At("alice/cat.jpg"));
  EXPECT_EQ(entry.message_group_id(), "alice");
  EXPECT_EQ(entry.message_deduplication_id(), DeduplicationId("photos", At("alice/cat.jpg")));
  job.group_by = GroupBy::kKey;
  EXPECT_EQ(JobMessage(job, At("alice/cat.jpg")).message_group_id(), "alice/cat.jpg");
}

TEST(JobMessageTest, KeyWithQuotesAndUnicodeSurvivesJson) {
  JobTemplate job;
  job.bucket = "photos";
  const std::string path = "\"quoted\" \\ caf\xc3\xa9/\xe2\x9c\x93.jpg";
  const json body = json::parse(JobMessage(job, At(path)).body());
  EXPECT_EQ(body["key"], "pending/" + path);
}

// --- BucketUploads ----------------------------------------------------------------

class BucketUploadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sluice-producer-unit-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const std::string& key) const { return dir_ + "/" + key; }
  void Put(const std::string& key, const std::string& data = "data") {
    fs::create_directories(fs::path(Path(key)).parent_path());
    std::ofstream(Path(key), std::ios::binary) << data;
  }
  std::string Read(const std::string& key) const {
    std::ifstream in(Path(key), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  static std::vector<std::string> Paths(const std::vector<Upload>& uploads) {
    std::vector<std::string> paths;
    for (const Upload& u : uploads) paths.push_back(u.path);
    return paths;
  }

  std::string dir_;
};

TEST_F(BucketUploadsTest, ListIsNameOrderDepthFirstAndSkipsWhatIsNotAnUpload) {
  Put("pending/top.jpg");
  Put("pending/b/2.jpg");
  Put("pending/a/1.jpg", "twelve bytes");
  Put("pending/a/sub/deep.jpg");
  Put("pending/a/.hidden.jpg");
  Put("pending/a/x.jpg.part");
  Put("pending/a/y.jpg.tmp");
  Put("pending/.incoming/in.jpg");  // a dot directory is not looked into
  fs::create_directories(Path("pending/empty"));
  fs::create_symlink(Path("pending/top.jpg"), Path("pending/link.jpg"));
  fs::create_directory_symlink(Path("pending/a"), Path("pending/linkdir"));
  Put("queued/elsewhere.jpg");              // another state: not listed
  Put("queued/.sluice-sent/1-ab.journal");  // the sent journals are not uploads

  BucketUploads uploads(dir_);
  size_t skipped = 0;
  const std::vector<Upload> listed = uploads.List(layout::kPending, &skipped);
  EXPECT_EQ(Paths(listed),
            (std::vector<std::string>{"a/1.jpg", "a/sub/deep.jpg", "b/2.jpg", "top.jpg"}));
  EXPECT_EQ(skipped, 5u) << "the dot-file, .part, .tmp and both symlinks";

  struct stat st;
  ASSERT_EQ(stat(Path("pending/a/1.jpg").c_str(), &st), 0);
  EXPECT_EQ(listed[0].size, 12u);
  EXPECT_EQ(listed[0].inode, st.st_ino);
  EXPECT_EQ(listed[0].mtime_ns, st.st_mtim.tv_sec * 1'000'000'000 + st.st_mtim.tv_nsec);

  EXPECT_EQ(Paths(uploads.List(layout::kQueued, nullptr)),
            std::vector<std::string>{"elsewhere.jpg"});
  EXPECT_TRUE(uploads.List(layout::kOriginals, nullptr).empty()) << "a missing state is empty";
}

TEST_F(BucketUploadsTest, StatAcceptsOnlyCompleteRegularFiles) {
  Put("pending/a/cat.jpg", "meow");
  Put("pending/a/.cat.jpg.swp");
  fs::create_symlink(Path("pending/a/cat.jpg"), Path("pending/a/link.jpg"));
  fs::create_directories(Path("pending/a/dir.jpg"));
  BucketUploads uploads(dir_);
  Upload u;
  ASSERT_TRUE(uploads.Stat(layout::kPending, "a/cat.jpg", &u));
  EXPECT_EQ(u.path, "a/cat.jpg");
  EXPECT_EQ(u.size, 4u);
  EXPECT_FALSE(uploads.Stat(layout::kPending, "a/.cat.jpg.swp", &u));
  EXPECT_FALSE(uploads.Stat(layout::kPending, "a/link.jpg", &u));
  EXPECT_FALSE(uploads.Stat(layout::kPending, "a/dir.jpg", &u));
  EXPECT_FALSE(uploads.Stat(layout::kPending, "a/missing.jpg", &u));
}

TEST_F(BucketUploadsTest, ClaimMovesTheFileToQueued) {
  Put("pending/alice/2026/cat.jpg", "meow");
  BucketUploads uploads(dir_);
  Upload u;
  ASSERT_TRUE(uploads.Stat(layout::kPending, "alice/2026/cat.jpg", &u));
  std::string error;
  ASSERT_EQ(uploads.Claim(u, &error), ClaimResult::kClaimed) << error;
  EXPECT_FALSE(fs::exists(Path("pending/alice/2026/cat.jpg")));
  EXPECT_EQ(Read("queued/alice/2026/cat.jpg"), "meow");
  Upload moved;
  ASSERT_TRUE(uploads.Stat(layout::kQueued, "alice/2026/cat.jpg", &moved));
  EXPECT_EQ(SentJournal::Entry(moved), SentJournal::Entry(u)) << "same file, same identity";
}

TEST_F(BucketUploadsTest, ClaimOfAFileAlreadyTakenIsGone) {
  Put("pending/cat.jpg");
  BucketUploads uploads(dir_);
  BucketUploads other(dir_);  // another producer on the same bucket
  Upload u;
  ASSERT_TRUE(uploads.Stat(layout::kPending, "cat.jpg", &u));
  std::string error;
  ASSERT_EQ(other.Claim(u, &error), ClaimResult::kClaimed) << error;
  EXPECT_EQ(uploads.Claim(u, &error), ClaimResult::kGone);
  EXPECT_EQ(uploads.Claim(At("never-there.jpg"), &error), ClaimResult::kGone);
  EXPECT_TRUE(fs::exists(Path("queued/cat.jpg")));
}

TEST_F(BucketUploadsTest, ClaimFailsWhenTheSameNameIsStillQueued) {
  Put("queued/cat.jpg", "the earlier upload");
  Put("pending/cat.jpg", "a new upload of the same name");
  BucketUploads uploads(dir_);
  Upload u;
  ASSERT_TRUE(uploads.Stat(layout::kPending, "cat.jpg", &u));
  std::string error;
  EXPECT_EQ(uploads.Claim(u, &error), ClaimResult::kFailed);
  EXPECT_NE(error.find("exists"), std::string::npos) << error;
  // Neither is lost: the new one waits in pending/ for a later run.
  EXPECT_EQ(Read("queued/cat.jpg"), "the earlier upload");
  EXPECT_EQ(Read("pending/cat.jpg"), "a new upload of the same name");
}

TEST_F(BucketUploadsTest, ClaimFailsForAnUnreadableFile) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads any file";
  Put("pending/secret.jpg");
  ASSERT_EQ(chmod(Path("pending/secret.jpg").c_str(), 0), 0);
  BucketUploads uploads(dir_);
  Upload u;
  ASSERT_TRUE(uploads.Stat(layout::kPending, "secret.jpg", &u));
  std::string error;
  EXPECT_EQ(uploads.Claim(u, &error), ClaimResult::kFailed);
  EXPECT_NE(error.find("cannot read"), std::string::npos) << error;
  EXPECT_TRUE(fs::exists(Path("pending/secret.jpg")));
}

// --- SentJournal -------------------------------------------------------------------

using SentJournalTest = BucketUploadsTest;

// The journals in queued/.sluice-sent/, by file name.
std::set<std::string> Journals(const std::string& bucket) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(bucket + "/" + layout::kSentJournals)) {
    names.insert(e.path().filename().string());
  }
  return names;
}

// Claims pending/<path> (put there first) and returns it as it is in queued/.
Upload Claimed(BucketUploads& uploads, const std::string& path) {
  Upload u;
  std::string error;
  EXPECT_TRUE(uploads.Stat(layout::kPending, path, &u)) << path;
  EXPECT_EQ(uploads.Claim(u, &error), ClaimResult::kClaimed) << error;
  return u;
}

TEST_F(SentJournalTest, AppendsOneLinePerUploadAndReadsThemBack) {
  auto journal = SentJournal::Open(dir_);
  ASSERT_TRUE(journal.ok()) << journal.status().ToString();
  EXPECT_EQ((*journal)->recovered(), 0u);
  EXPECT_EQ(fs::path((*journal)->path()).parent_path(), fs::path(Path("queued/.sluice-sent")));
  const Upload odd = At("a/new\nline\\.jpg");  // a newline and a backslash in a name
  const std::vector<Upload> batch = {At("a/cat.jpg"), At("b/dog with spaces.jpg"), odd};
  ASSERT_TRUE((*journal)->Append(batch).ok());
  ASSERT_TRUE((*journal)->Append({At("c/last.jpg")}).ok());

  const std::vector<std::string> entries = SentJournal::ReadEntries((*journal)->path());
  ASSERT_EQ(entries.size(), 4u) << "one line each, newline in a name escaped";
  for (size_t i = 0; i < batch.size(); ++i) {
    Upload back;
    ASSERT_TRUE(SentJournal::ParseEntry(entries[i], &back)) << entries[i];
    EXPECT_EQ(back.path, batch[i].path);
    EXPECT_EQ(back.size, batch[i].size);
    EXPECT_EQ(back.mtime_ns, batch[i].mtime_ns);
    EXPECT_EQ(back.inode, batch[i].inode);
  }
  Upload junk;
  EXPECT_FALSE(SentJournal::ParseEntry("not an entry", &junk));
  // A path may start with a space: only the one separator is skipped.
  ASSERT_TRUE(SentJournal::ParseEntry("1 2 3  lead.jpg", &junk));
  EXPECT_EQ(junk.path, " lead.jpg");
}

TEST_F(SentJournalTest, ATornLastLineIsNotAnEntry) {
  Put("queued/.sluice-sent/x.journal", "1 2 3 a.jpg\n1 2 3 b.j");
  EXPECT_EQ(SentJournal::ReadEntries(Path("queued/.sluice-sent/x.journal")),
            std::vector<std::string>{"1 2 3 a.jpg"});
}

TEST_F(SentJournalTest, RecoveredSetIsWhatEveryJournalNamesByPathAndIdentity) {
  Put("pending/sent.jpg");
  Put("pending/unsent.jpg");
  BucketUploads uploads(dir_);
  const Upload sent = Claimed(uploads, "sent.jpg");
  const Upload unsent = Claimed(uploads, "unsent.jpg");
  auto first = SentJournal::Open(dir_);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->Append({sent}).ok());

  auto second = SentJournal::Open(dir_);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE((*second)->Sent(sent));
  EXPECT_FALSE((*second)->Sent(unsent)) << "claimed, never acknowledged";
  // A new upload at a sent one's path (the first one done by a worker) is
  // another file: the old entry does not stand for it.
  Upload replaced = sent;
  replaced.inode += 1;
  EXPECT_FALSE((*second)->Sent(replaced));
  EXPECT_FALSE((*first)->Sent(sent)) << "a journal's own later appends are not recovered";
}

TEST_F(SentJournalTest, ADeadProducersJournalIsMergedAndDeleted) {
  Put("pending/still-queued.jpg");
  Put("pending/done.jpg");
  Put("pending/replaced.jpg", "first");
  BucketUploads uploads(dir_);
  const Upload still = Claimed(uploads, "still-queued.jpg");
  const Upload done = Claimed(uploads, "done.jpg");
  const Upload replaced = Claimed(uploads, "replaced.jpg");
  std::string dead_name;
  {
    auto dead = SentJournal::Open(dir_);
    ASSERT_TRUE(dead.ok());
    dead_name = fs::path((*dead)->path()).filename();
    ASSERT_TRUE((*dead)->Append({still, done, replaced}).ok());
  }  // its producer is gone: the lock is released, the file stays
  ASSERT_TRUE(Journals(dir_).contains(dead_name));
  // A worker finished done.jpg; replaced.jpg's path holds a new file.
  fs::rename(Path("queued/done.jpg"), Path("originals-done.jpg"));
  fs::remove(Path("queued/replaced.jpg"));
  Put("tmp/replaced.jpg", "second, a new file");
  fs::rename(Path("tmp/replaced.jpg"), Path("queued/replaced.jpg"));

  auto journal = SentJournal::Open(dir_);
  ASSERT_TRUE(journal.ok());
  EXPECT_TRUE((*journal)->Sent(still));
  EXPECT_EQ(Journals(dir_), std::set<std::string>{fs::path((*journal)->path()).filename()})
      << "the dead one is deleted";
  EXPECT_EQ(SentJournal::ReadEntries((*journal)->path()),
            std::vector<std::string>{SentJournal::Entry(still)})
      << "only what is still in queued/ is carried over";

  // And the next producer still knows still-queued.jpg was sent.
  journal->reset();
  auto next = SentJournal::Open(dir_);
  ASSERT_TRUE(next.ok());
  EXPECT_TRUE((*next)->Sent(still));
  Upload now;
  ASSERT_TRUE(uploads.Stat(layout::kQueued, "replaced.jpg", &now));
  EXPECT_FALSE((*next)->Sent(now)) << "the new file at that path was never sent";
}

TEST_F(SentJournalTest, ALiveProducersJournalIsReadAndLeftAlone) {
  Put("pending/cat.jpg");
  BucketUploads uploads(dir_);
  const Upload cat = Claimed(uploads, "cat.jpg");
  auto live = SentJournal::Open(dir_);
  ASSERT_TRUE(live.ok());
  ASSERT_TRUE((*live)->Append({cat}).ok());

  auto other = SentJournal::Open(dir_);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE((*other)->Sent(cat));
  EXPECT_EQ(Journals(dir_).size(), 2u);
  EXPECT_EQ(SentJournal::ReadEntries((*live)->path()),
            std::vector<std::string>{SentJournal::Entry(cat)});
  EXPECT_TRUE(SentJournal::ReadEntries((*other)->path()).empty()) << "nothing merged";
}

// --- UploadWatcher -----------------------------------------------------------------

// Collects the watcher's events until `done` holds or five seconds pass.
template <typename Done>
UploadWatcher::Events Collect(UploadWatcher& watcher, Done done) {
  UploadWatcher::Events all;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done(all) && std::chrono::steady_clock::now() < deadline) {
    UploadWatcher::Events events = watcher.Wait(std::chrono::milliseconds(50));
    all.files.insert(all.files.end(), events.files.begin(), events.files.end());
    all.rescan = all.rescan || events.rescan;
  }
  return all;
}

bool Has(const UploadWatcher::Events& events, const std::string& path) {
  return std::find(events.files.begin(), events.files.end(), path) != events.files.end();
}

TEST_F(BucketUploadsTest, WatcherReportsAFileOnCloseNotOnOpen) {
  fs::create_directories(Path("pending/a"));
  auto watcher = UploadWatcher::Open(Path("pending"));
  ASSERT_TRUE(watcher.ok()) << watcher.status().ToString();
  {
    std::ofstream slow(Path("pending/a/slow.jpg"), std::ios::binary);
    slow << "half" << std::flush;
    // Another file closed meanwhile: once it is reported, so would be the
    // first, had its creation or write been reported.
    Put("pending/a/marker.jpg");
    const auto seen =
        Collect(**watcher, [](const UploadWatcher::Events& e) { return Has(e, "a/marker.jpg"); });
    ASSERT_TRUE(Has(seen, "a/marker.jpg"));
    EXPECT_FALSE(Has(seen, "a/slow.jpg"));
    slow << " and the rest";
  }
  const auto closed =
      Collect(**watcher, [](const UploadWatcher::Events& e) { return Has(e, "a/slow.jpg"); });
  EXPECT_TRUE(Has(closed, "a/slow.jpg"));
}

TEST_F(BucketUploadsTest, WatcherReportsRenamesInAndNewDirectories) {
  fs::create_directories(Path("pending"));
  auto watcher = UploadWatcher::Open(Path("pending"));
  ASSERT_TRUE(watcher.ok()) << watcher.status().ToString();
  Put("pending/.x.jpg.tmp");
  fs::rename(Path("pending/.x.jpg.tmp"), Path("pending/x.jpg"));
  const auto renamed =
      Collect(**watcher, [](const UploadWatcher::Events& e) { return Has(e, "x.jpg"); });
  EXPECT_TRUE(Has(renamed, "x.jpg"));

  fs::create_directories(Path("pending/new"));
  const auto made = Collect(**watcher, [](const UploadWatcher::Events& e) { return e.rescan; });
  EXPECT_TRUE(made.rescan) << "files may land in a new directory before its watch";
  // Now that it is watched, a file in it is reported by itself.
  Put("pending/new/y.jpg");
  const auto inside =
      Collect(**watcher, [](const UploadWatcher::Events& e) { return Has(e, "new/y.jpg"); });
  EXPECT_TRUE(Has(inside, "new/y.jpg"));
}

}  // namespace
}  // namespace sluice
