// Jobs from message bodies (a ResizeJob in JSON, or an S3 event
// notification), and the keys a job's outputs and original go to.
#include "worker/job.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace sluice::worker {
namespace {

using Sizes = std::vector<uint32_t>;

// The one job `body` gives; fails the test when it gives another number.
Job ParseOne(const std::string& body, const JobDefaults& defaults = {}) {
  auto jobs = ParseJobs(body, defaults);
  EXPECT_TRUE(jobs.ok()) << body << ": " << (jobs.ok() ? "" : jobs.error().detail);
  if (!jobs.ok()) return {};
  EXPECT_EQ(jobs->jobs.size(), 1u) << body;
  return jobs->jobs.empty() ? Job{} : jobs->jobs.front();
}

// The reason `body` is refused, or nullopt when it is accepted.
std::optional<FailureReason> Refusal(const std::string& body) {
  auto jobs = ParseJobs(body, JobDefaults{});
  if (jobs.ok()) return std::nullopt;
  return jobs.error().reason;
}

// --- ResizeJob JSON -------------------------------------------------------------

TEST(ParseJobsTest, MinimalJobTakesTheDefaults) {
  JobDefaults defaults;
  defaults.sizes = {640, 64};
  defaults.format = ImageFormat::kWebp;
  defaults.quality = 70;
  defaults.output_prefix = "thumbs/";
  const Job job = ParseOne(R"({"bucket":"photos","key":"pending/cat.jpg"})", defaults);
  EXPECT_EQ(job.bucket, "photos");
  EXPECT_EQ(job.key, "pending/cat.jpg");
  EXPECT_EQ(job.sizes, (Sizes{640, 64}));
  EXPECT_EQ(job.format, ImageFormat::kWebp);
  EXPECT_EQ(job.quality, 70u);
  EXPECT_EQ(job.output_prefix, "thumbs/");
}

TEST(ParseJobsTest, BucketAndKeyAreRequired) {
  EXPECT_EQ(Refusal(R"({"key":"pending/cat.jpg"})"), FailureReason::kInvalidJob);
  EXPECT_EQ(Refusal(R"({"bucket":"photos"})"), FailureReason::kInvalidJob);
  EXPECT_EQ(Refusal(R"({"bucket":"","key":"cat.jpg"})"), FailureReason::kInvalidJob);
  EXPECT_EQ(Refusal("{}"), FailureReason::kInvalidJob);
}

TEST(ParseJobsTest, SizesAreSortedLargestFirstWithoutDuplicates) {
  const Job job = ParseOne(R"({"bucket":"b","key":"k","sizes":[200,1000,64,1000,200]})");
  EXPECT_EQ(job.sizes, (Sizes{1000, 200, 64}));
}

TEST(ParseJobsTest, SizesOutOfRangeAreRefused) {
  EXPECT_EQ(Refusal(R"({"bucket":"b","key":"k","sizes":[100,0]})"), FailureReason::kInvalidJob);
  EXPECT_EQ(Refusal(R"({"bucket":"b","key":"k","sizes":[10001]})"), FailureReason::kInvalidJob);
  EXPECT_EQ(ParseOne(R"({"bucket":"b","key":"k","sizes":[10000,1]})").sizes, (Sizes{10000, 1}));
}

TEST(ParseJobsTest, TooManySizesAreRefused) {
  EXPECT_EQ(ParseOne(R"({"bucket":"b","key":"k","sizes":[1,2,3,4,5,6,7,8]})").sizes.size(),
            kMaxSizesPerJob);
  EXPECT_EQ(Refusal(R"({"bucket":"b","key":"k","sizes":[1,2,3,4,5,6,7,8,9]})"),
            FailureReason::kInvalidJob);
}

TEST(ParseJobsTest, FormatNames) {
  const auto format_of = [](const std::string& name) {
    return ParseOne(R"({"bucket":"b","key":"k","format":")" + name + R"("})").format;
  };
  EXPECT_EQ(format_of("jpeg"), ImageFormat::kJpeg);
  EXPECT_EQ(format_of("jpg"), ImageFormat::kJpeg);
  EXPECT_EQ(format_of("PNG"), ImageFormat::kPng);
  EXPECT_EQ(format_of("webp"), ImageFormat::kWebp);
  EXPECT_EQ(format_of("gif"), ImageFormat::kGif);
  EXPECT_EQ(Refusal(R"({"bucket":"b","key":"k","format":"tiff"})"), FailureReason::kInvalidJob);
  EXPECT_EQ(Refusal(R"({"bucket":"b","key":"k","format":"svg"})"), FailureReason::kInvalidJob);
}

TEST(ParseJobsTest, NoFormatMeansTheDefaultsFormat) {
  EXPECT_EQ(ParseOne(R"({"bucket":"b","key":"k"})").format, std::nullopt);
}

TEST(ParseJobsTest, Quality) {
  EXPECT_EQ(ParseOne(R"({"bucket":"b","key":"k","quality":0})").quality, JobDefaults{}.quality);
  EXPECT_EQ(ParseOne(R"({"bucket":"b","key":"k","quality":1})").quality, 1u);
  EXPECT_EQ(ParseOne(R"({"bucket":"b","key":"k","quality":100})").quality, 100u);
  EXPECT_EQ(Refusal(R"({"bucket":"b","key":"k","quality":101})"), FailureReason::kInvalidJob);
}

TEST(ParseJobsTest, OutputPrefix) {
  EXPECT_EQ(ParseOne(R"({"bucket":"b","key":"k"})").output_prefix, "resized/");
  EXPECT_EQ(ParseOne(R"({"bucket":"b","key":"k","output_prefix":"out/"})").output_prefix, "out/");
}

// Outputs there would be taken for uploads, or overwrite the originals.
TEST(ParseJobsTest, OutputPrefixMayNotBeWhereUploadsAreKept) {
  for (const char* prefix : {"pending/", "claimed/x/", "queued/", "originals/"}) {
    EXPECT_EQ(
        Refusal(std::string(R"({"bucket":"b","key":"k","output_prefix":")") + prefix + R"("})"),
        FailureReason::kInvalidJob)
        << prefix;
  }
  EXPECT_EQ(Refusal(R"({"bucket":"b","key":"k","output_prefix":"pendingish/"})"), std::nullopt);
}

// A newer producer may add fields; an older worker must still do the job.
TEST(ParseJobsTest, UnknownFieldsAreIgnored) {
  const Job job = ParseOne(R"({"bucket":"b","key":"k","priority":7,"extra":{"a":[1]}})");
  EXPECT_EQ(job.bucket, "b");
  EXPECT_EQ(job.key, "k");
}

TEST(ParseJobsTest, MistypedFieldIsRefused) {
  EXPECT_EQ(Refusal(R"({"bucket":"b","key":"k","sizes":"big"})"), FailureReason::kInvalidJob);
  EXPECT_EQ(Refusal(R"({"bucket":"b","key":"k","sizes":[-5]})"), FailureReason::kInvalidJob);
}

TEST(ParseJobsTest, MalformedOrNonObjectJsonIsRefused) {
  EXPECT_EQ(Refusal(""), FailureReason::kInvalidJob);
  EXPECT_EQ(Refusal("not json"), FailureReason::kInvalidJob);
  EXPECT_EQ(Refusal(R"({"bucket":"b","key":"k")"), FailureReason::kInvalidJob);
  EXPECT_EQ(Refusal(R"(["b","k"])"), FailureReason::kInvalidJob);
  EXPECT_EQ(Refusal(R"("a string")"), FailureReason::kInvalidJob);
  EXPECT_EQ(Refusal("42"), FailureReason::kInvalidJob);
  EXPECT_EQ(Refusal("null"), FailureReason::kInvalidJob);
}

// --- S3 event notifications ---------------------------------------------------

std::string S3Record(const std::string& event, const std::string& bucket, const std::string& key,
                     const std::string& source = "aws:s3") {
  return R"({"eventVersion":"2.1","eventSource":")" + source + R"(","eventName":")" + event +
         R"(","s3":{"s3SchemaVersion":"1.0","bucket":{"name":")" + bucket +
         R"(","arn":"arn:aws:s3:::)" + bucket + R"("},"object":{"key":")" + key +
         R"(","size":1024}}})";
}

std::string S3Event(const std::vector<std::string>& records) {
  std::string body = R"({"Records":[)";
  for (size_t i = 0; i < records.size(); ++i) body += (i > 0 ? "," : "") + records[i];
  return body + "]}";
}

TEST(ParseJobsTest, S3EventWithOneRecord) {
  JobDefaults defaults;
  defaults.sizes = {300};
  const Job job =
      ParseOne(S3Event({S3Record("ObjectCreated:Put", "photos", "pending/cat.jpg")}), defaults);
  EXPECT_EQ(job.bucket, "photos");
  EXPECT_EQ(job.key, "pending/cat.jpg");
  EXPECT_EQ(job.sizes, (Sizes{300}));
  EXPECT_EQ(job.output_prefix, "resized/");
}

TEST(ParseJobsTest, S3EventWithTwoRecordsGivesTwoJobs) {
  auto jobs = ParseJobs(
      S3Event({S3Record("ObjectCreated:Put", "photos", "pending/a.jpg"),
               S3Record("ObjectCreated:CompleteMultipartUpload", "other", "pending/b.png")}),
      JobDefaults{});
  ASSERT_TRUE(jobs.ok()) << jobs.error().detail;
  ASSERT_EQ(jobs->jobs.size(), 2u);
  EXPECT_EQ(jobs->jobs[0].bucket, "photos");
  EXPECT_EQ(jobs->jobs[0].key, "pending/a.jpg");
  EXPECT_EQ(jobs->jobs[1].bucket, "other");
  EXPECT_EQ(jobs->jobs[1].key, "pending/b.png");
}

TEST(ParseJobsTest, S3EventKeysAreUrlDecoded) {
  const Job job =
      ParseOne(S3Event({S3Record("ObjectCreated:Put", "photos", "pending/my+photo%281%29.jpg")}));
  EXPECT_EQ(job.key, "pending/my photo(1).jpg");
}

// MinIO names its events "s3:ObjectCreated:Put".
TEST(ParseJobsTest, S3EventNameMayHaveTheS3Prefix) {
  const Job job = ParseOne(
      S3Event({S3Record("s3:ObjectCreated:Put", "photos", "pending/my+photo.jpg", "minio:s3")}));
  EXPECT_EQ(job.key, "pending/my photo.jpg");
}

// Ceph RGW sends keys as they are: "a b+c%.jpg" arrives literally.
TEST(ParseJobsTest, RgwKeysAreNotDecoded) {
  const Job job =
      ParseOne(S3Event({S3Record("ObjectCreated:Put", "photos", "pending/a b+c%.jpg", "ceph:s3")}));
  EXPECT_EQ(job.key, "pending/a b+c%.jpg");
}

TEST(ParseJobsTest, S3EventSkipsRecordsOfOtherKinds) {
  auto jobs = ParseJobs(S3Event({S3Record("ObjectRemoved:Delete", "photos", "pending/gone.jpg"),
                                 S3Record("ObjectCreated:Copy", "photos", "pending/new.jpg"),
                                 S3Record("ObjectRestore:Completed", "photos", "pending/x.jpg")}),
                        JobDefaults{});
  ASSERT_TRUE(jobs.ok()) << jobs.error().detail;
  ASSERT_EQ(jobs->jobs.size(), 1u);
  EXPECT_EQ(jobs->jobs.front().key, "pending/new.jpg");
  // The others are reported, for the worker to log and count.
  ASSERT_EQ(jobs->skipped.size(), 2u);
  EXPECT_EQ(jobs->skipped[0].event_name, "ObjectRemoved:Delete");
  EXPECT_EQ(jobs->skipped[1].event_name, "ObjectRestore:Completed");
  EXPECT_EQ(jobs->skipped[0].reason, "not_object_created");
}

TEST(ParseJobsTest, S3EventWithOnlyOtherKindsGivesNoJobs) {
  auto jobs =
      ParseJobs(S3Event({S3Record("ObjectRemoved:Delete", "photos", "pending/gone.jpg")}), {});
  ASSERT_TRUE(jobs.ok());
  EXPECT_TRUE(jobs->jobs.empty());
}

// S3 sends this once when notifications are configured.
TEST(ParseJobsTest, S3TestEventGivesNoJobs) {
  auto jobs = ParseJobs(
      R"({"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-01-01T00:00:00.000Z",)"
      R"("Bucket":"photos","RequestId":"5582815E1AEA5ADF","HostId":"8cLeGAmw098X5cv4Zkw"})",
      JobDefaults{});
  ASSERT_TRUE(jobs.ok()) << jobs.error().detail;
  EXPECT_TRUE(jobs->jobs.empty());
}

TEST(ParseJobsTest, S3EventWithMalformedEscapeIsRefused) {
  EXPECT_EQ(Refusal(S3Event({S3Record("ObjectCreated:Put", "photos", "pending/100%.jpg")})),
            FailureReason::kInvalidJob);
  EXPECT_EQ(Refusal(S3Event({S3Record("ObjectCreated:Put", "photos", "pending/a%zz.jpg")})),
            FailureReason::kInvalidJob);
}

TEST(ParseJobsTest, S3EventWithoutBucketOrKeyIsRefused) {
  EXPECT_EQ(Refusal(R"({"Records":[{"eventName":"ObjectCreated:Put"}]})"),
            FailureReason::kInvalidJob);
  EXPECT_EQ(Refusal(R"({"Records":[{"eventName":"ObjectCreated:Put",)"
                    R"("s3":{"bucket":{"name":"photos"},"object":{"key":7}}}]})"),
            FailureReason::kInvalidJob);
  EXPECT_EQ(Refusal(R"({"Records":{"eventName":"ObjectCreated:Put"}})"),
            FailureReason::kInvalidJob);
}

// A body is untrusted: wrong types anywhere in an event are refused or
// skipped, never thrown (nothing would catch it) or read past.
TEST(ParseJobsTest, S3EventWithWrongTypesIsRefusedOrSkipped) {
  const std::vector<std::string> refused = {
      R"({"Records":5})",
      R"({"Records":null})",
      R"({"Records":[{"eventName":"ObjectCreated:Put","s3":5}]})",
      R"({"Records":[{"eventName":"ObjectCreated:Put","s3":{}}]})",
      R"({"Records":[{"eventName":"ObjectCreated:Put","s3":[]}]})",
      R"({"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{},"object":{"key":"k"}}}]})",
      R"({"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":"b","object":{"key":"k"}}}]})",
      R"({"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":[]}}]})",
      R"({"Records":[{"eventName":"ObjectCreated:Put",)"
      R"("s3":{"bucket":{"name":["b"]},"object":{"key":"k"}}}]})",
  };
  for (const std::string& body : refused) {
    std::optional<FailureReason> reason;
    EXPECT_NO_THROW(reason = Refusal(body)) << body;
    EXPECT_EQ(reason, FailureReason::kInvalidJob) << body;
  }
  // Records that are not objects, or whose eventName is not a string, are of
  // no kind we handle.
  for (const std::string body :
       {R"({"Records":[1,"x",null,[]]})", R"({"Records":[{"eventName":5},{"eventName":null}]})"}) {
    EXPECT_NO_THROW({
      auto jobs = ParseJobs(body, JobDefaults{});
      ASSERT_TRUE(jobs.ok()) << body;
      EXPECT_TRUE(jobs->jobs.empty()) << body;
    });
  }
}

TEST(ParseJobsTest, EventFieldOfAnotherTypeIsNotATestEvent) {
  std::optional<FailureReason> reason;
  EXPECT_NO_THROW(reason = Refusal(R"({"Event":5})"));
  EXPECT_EQ(reason, FailureReason::kInvalidJob);  // and no bucket or key either
}

TEST(ParseJobsTest, DeeplyNestedUnknownFieldDoesNotCrash) {
  const std::string nested = std::string(100'000, '[') + std::string(100'000, ']');
  EXPECT_NO_THROW(ParseJobs(R"({"bucket":"b","key":"k","x":)" + nested + "}", JobDefaults{}));
  EXPECT_NO_THROW(ParseJobs(R"({"Records":)" + nested + "}", JobDefaults{}));
}

// --- OutputKey and DoneKey ------------------------------------------------------

Job JobFor(const std::string& key) {
  Job job;
  job.bucket = "photos";
  job.key = key;
  job.output_prefix = "resized/";
  return job;
}

constexpr auto kJpeg = ImageFormat::kJpeg;
constexpr auto kPng = ImageFormat::kPng;

TEST(OutputKeyTest, StripsTheSourcePrefixAndAddsTheBox) {
  EXPECT_EQ(OutputKey(JobFor("pending/a/b/cat.jpg"), {}, 1000, kJpeg, kJpeg),
            "resized/a/b/cat-1000.jpg");
  EXPECT_EQ(OutputKey(JobFor("pending/cat.jpg"), {}, 200, kJpeg, kJpeg), "resized/cat-200.jpg");
}

TEST(OutputKeyTest, KeyOutsideTheSourcePrefixKeepsItsWholePath) {
  EXPECT_EQ(OutputKey(JobFor("uploads/a/cat.jpg"), {}, 200, kJpeg, kJpeg),
            "resized/uploads/a/cat-200.jpg");
  // A prefix is a whole leading string, not a component found anywhere.
  EXPECT_EQ(OutputKey(JobFor("x/pending/cat.jpg"), {}, 200, kJpeg, kJpeg),
            "resized/x/pending/cat-200.jpg");
}

TEST(OutputKeyTest, UsesTheJobsOutputPrefix) {
  Job job = JobFor("pending/cat.jpg");
  job.output_prefix = "thumbs/";
  EXPECT_EQ(OutputKey(job, {}, 64, kJpeg, kJpeg), "thumbs/cat-64.jpg");
}

TEST(OutputKeyTest, ExtensionIsKeptWhenTheFormatIsUnchanged) {
  EXPECT_EQ(OutputKey(JobFor("pending/cat.JPEG"), {}, 200, kJpeg, kJpeg), "resized/cat-200.JPEG");
  EXPECT_EQ(OutputKey(JobFor("pending/cat.jpeg"), {}, 200, kJpeg, kJpeg), "resized/cat-200.jpeg");
}

TEST(OutputKeyTest, ExtensionIsReplacedWhenTheFormatChanges) {
  EXPECT_EQ(OutputKey(JobFor("pending/cat.JPEG"), {}, 200, kJpeg, kPng), "resized/cat-200.png");
  EXPECT_EQ(OutputKey(JobFor("pending/cat.png"), {}, 200, kPng, ImageFormat::kWebp),
            "resized/cat-200.webp");
  EXPECT_EQ(OutputKey(JobFor("pending/cat.tar.png"), {}, 200, kPng, kJpeg),
            "resized/cat.tar-200.jpg");
}

TEST(OutputKeyTest, KeyWithoutExtensionGetsTheFormatsExtension) {
  EXPECT_EQ(OutputKey(JobFor("pending/cat"), {}, 200, kJpeg, kJpeg), "resized/cat-200.jpg");
  EXPECT_EQ(OutputKey(JobFor("pending/v1.0/cat"), {}, 200, kPng, kPng), "resized/v1.0/cat-200.png");
}

TEST(OutputKeyTest, LeadingDotIsPartOfTheNameNotAnExtension) {
  EXPECT_EQ(OutputKey(JobFor("pending/.hidden"), {}, 200, kJpeg, kJpeg), "resized/.hidden-200.jpg");
  EXPECT_EQ(OutputKey(JobFor("pending/.hidden.png"), {}, 200, kPng, kPng),
            "resized/.hidden-200.png");
}

TEST(OutputKeyTest, EmptySourcePrefixStripsNothing) {
  JobDefaults defaults;
  defaults.source_prefix = "";
  EXPECT_EQ(OutputKey(JobFor("pending/cat.jpg"), defaults, 200, kJpeg, kJpeg),
            "resized/pending/cat-200.jpg");
}

// An upload only moves forward, pending/ -> claimed/ -> queued/, each move one
// rename, and the producer renames claimed/ to queued/ just after the send that
// a worker may receive at once. Looked for in any other order (queued/ before
// claimed/), the upload can be in neither when each is looked at, and a good
// job would be dead-lettered as no_such_key.
TEST(SourceKeysTest, FollowTheUploadsLifecycle) {
  EXPECT_EQ(
      SourceKeys("pending/a/cat.jpg", {}),
      (std::vector<std::string>{"pending/a/cat.jpg", "claimed/a/cat.jpg", "queued/a/cat.jpg"}));
}

TEST(DoneKeyTest, MovesUnderTheDonePrefix) {
  EXPECT_EQ(DoneKey("pending/a/cat.jpg", {}), "originals/a/cat.jpg");
  EXPECT_EQ(DoneKey("uploads/cat.jpg", {}), "originals/uploads/cat.jpg");
}

TEST(DoneKeyTest, EmptyDonePrefixMeansNoMove) {
  JobDefaults defaults;
  defaults.done_prefix = "";
  EXPECT_EQ(DoneKey("pending/a/cat.jpg", defaults), "");
}

}  // namespace
}  // namespace sluice::worker
