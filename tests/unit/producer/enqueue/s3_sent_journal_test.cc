// The S3 sent journal's entries: "size last-modified-ms etag path", one line
// each, read back to the same upload. (Open and Compact need an S3 server:
// the integration tests in tests/s3/ cover them.)
#include "producer/enqueue/s3_sent_journal.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace sluice {
namespace {

Upload S3Upload(std::string path, std::string etag = "d41d8cd98f00b204e9800998ecf8427e") {
  Upload upload;
  upload.path = std::move(path);
  upload.size = 434234;
  upload.mtime_ns = 1255369830000;
  upload.etag = std::move(etag);
  return upload;
}

// Entry then ParseEntry gives `upload` back, on one line.
void ExpectRoundTrip(const Upload& upload) {
  const std::string entry = S3SentJournal::Entry(upload);
  EXPECT_EQ(entry.find('\n'), std::string::npos) << entry;
  Upload back;
  back.inode = 99;
  ASSERT_TRUE(S3SentJournal::ParseEntry(entry, &back)) << entry;
  EXPECT_EQ(back.path, upload.path) << entry;
  EXPECT_EQ(back.size, upload.size) << entry;
  EXPECT_EQ(back.mtime_ns, upload.mtime_ns) << entry;
  EXPECT_EQ(back.etag, upload.etag) << entry;
  EXPECT_EQ(back.inode, 0u) << entry;
}

TEST(S3SentJournalEntryTest, Format) {
  EXPECT_EQ(S3SentJournal::Entry(S3Upload("trip/cat.jpg")),
            "434234 1255369830000 d41d8cd98f00b204e9800998ecf8427e trip/cat.jpg");
}

TEST(S3SentJournalEntryTest, PathsStartingWithSpacesRoundTrip) {
  ExpectRoundTrip(S3Upload(" lead.jpg"));
  ExpectRoundTrip(S3Upload("   "));
}

TEST(S3SentJournalEntryTest, PlainPathRoundTrips) {
  ExpectRoundTrip(S3Upload("trip/cat.jpg"));
  ExpectRoundTrip(S3Upload("cat.jpg", "3857b55a5fa43d44f3a0cde3bd6b6a4d-2"));
}

TEST(S3SentJournalEntryTest, PathWithSpacesRoundTrips) {
  ExpectRoundTrip(S3Upload("summer trip/a b  c.jpg"));
  ExpectRoundTrip(S3Upload("trailing space.jpg "));
  ExpectRoundTrip(S3Upload("a\tb.jpg"));
}

TEST(S3SentJournalEntryTest, PathWithBackslashRoundTrips) {
  ExpectRoundTrip(S3Upload("back\\slash.jpg"));
  ExpectRoundTrip(S3Upload("ends\\"));
  ExpectRoundTrip(S3Upload("\\\\double"));
  // A backslash followed by 'n' is not a newline.
  ExpectRoundTrip(S3Upload("not\\newline.jpg"));
}

TEST(S3SentJournalEntryTest, PathWithNewlineRoundTrips) {
  ExpectRoundTrip(S3Upload("new\nline.jpg"));
  ExpectRoundTrip(S3Upload("two\n\nlines\n"));
  ExpectRoundTrip(S3Upload("mixed\\\n.jpg"));
}

TEST(S3SentJournalEntryTest, NonAsciiPathRoundTrips) {
  ExpectRoundTrip(S3Upload("caf\xC3\xA9/\xE5\x86\x99\xE7\x9C\x9F.jpg"));
  ExpectRoundTrip(S3Upload("pending+100%.jpg"));
}

TEST(S3SentJournalEntryTest, EmptyEtagIsWrittenAsDash) {
  const Upload upload = S3Upload("trip/cat.jpg", "");
  EXPECT_EQ(S3SentJournal::Entry(upload), "434234 1255369830000 - trip/cat.jpg");
  ExpectRoundTrip(upload);
}

TEST(S3SentJournalEntryTest, ExtremeNumbersRoundTrip) {
  Upload upload = S3Upload("big.jpg");
  upload.size = std::numeric_limits<uint64_t>::max();
  upload.mtime_ns = std::numeric_limits<int64_t>::max();
  ExpectRoundTrip(upload);
  upload.size = 0;
  upload.mtime_ns = 0;
  ExpectRoundTrip(upload);
}

TEST(S3SentJournalEntryTest, DifferentEtagsMakeDifferentEntries) {
  EXPECT_NE(S3SentJournal::Entry(S3Upload("a.jpg", "etag1")),
            S3SentJournal::Entry(S3Upload("a.jpg", "etag2")));
  Upload later = S3Upload("a.jpg");
  later.mtime_ns += 1;
  EXPECT_NE(S3SentJournal::Entry(S3Upload("a.jpg")), S3SentJournal::Entry(later));
}

TEST(S3SentJournalEntryTest, EtagIsKeptOneWord) {
  // Never in an S3 ETag, but an entry must stay parseable.
  const std::string entry = S3SentJournal::Entry(S3Upload("a.jpg", "x y\nz\\w"));
  EXPECT_EQ(entry.find('\n'), std::string::npos);
  Upload back;
  ASSERT_TRUE(S3SentJournal::ParseEntry(entry, &back)) << entry;
  EXPECT_EQ(back.path, "a.jpg");
  EXPECT_EQ(back.etag.find(' '), std::string::npos);
}

TEST(S3SentJournalEntryTest, MalformedEntriesAreRejected) {
  Upload back;
  EXPECT_FALSE(S3SentJournal::ParseEntry("", &back));
  EXPECT_FALSE(S3SentJournal::ParseEntry("not an entry", &back));
  EXPECT_FALSE(S3SentJournal::ParseEntry("434234", &back));
  EXPECT_FALSE(S3SentJournal::ParseEntry("434234 1255369830000", &back));
  EXPECT_FALSE(S3SentJournal::ParseEntry("434234 1255369830000 etag", &back));
  EXPECT_FALSE(S3SentJournal::ParseEntry("434234 1255369830000 etag ", &back));
  EXPECT_FALSE(S3SentJournal::ParseEntry("x 1255369830000 etag a.jpg", &back));
  EXPECT_FALSE(S3SentJournal::ParseEntry("434234 y etag a.jpg", &back));
}

}  // namespace
}  // namespace sluice
