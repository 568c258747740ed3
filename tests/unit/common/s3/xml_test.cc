// S3's XML answers: error bodies, ListObjectsV2 pages (as AWS documents them
// and as RGW sends them with encoding-type=url), ISO 8601 times and ETags.
#include "common/s3/xml.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace sluice::s3 {
namespace {

// --- ParseErrorBody ----------------------------------------------------------------

TEST(ParseErrorBodyTest, NoSuchKey) {
  // The example of AWS's "Error responses" page.
  constexpr char kBody[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>NoSuchKey</Code>
  <Message>The resource you requested does not exist</Message>
  <Resource>/mybucket/myfoto.jpg</Resource>
  <RequestId>4442587FB7D0A2F9</RequestId>
</Error>)";
  auto error = ParseErrorBody(kBody);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, "NoSuchKey");
  EXPECT_EQ(error->message, "The resource you requested does not exist");
}

TEST(ParseErrorBodyTest, RgwSignatureDoesNotMatch) {
  constexpr char kBody[] =
      R"(<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code>)"
      R"(<Message></Message><BucketName>photos</BucketName>)"
      R"(<RequestId>tx000001d2b7c5e0ee8a3b3-0066a0b1c2-1014-default</RequestId>)"
      R"(<HostId>1014-default-default</HostId></Error>)";
  auto error = ParseErrorBody(kBody);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, "SignatureDoesNotMatch");
  EXPECT_EQ(error->message, "");
}

TEST(ParseErrorBodyTest, ErrorWithoutMessageReadsEmpty) {
  auto error = ParseErrorBody("<Error><Code>SlowDown</Code></Error>");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, "SlowDown");
  EXPECT_EQ(error->message, "");
}

TEST(ParseErrorBodyTest, CopyObjectResultIsNotAnError) {
  constexpr char kBody[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<CopyObjectResult>
   <ETag>"9b2cf535f27731c974343645a3985328"</ETag>
   <LastModified>2009-10-28T22:32:00</LastModified>
</CopyObjectResult>)";
  EXPECT_EQ(ParseErrorBody(kBody), std::nullopt);
}

TEST(ParseErrorBodyTest, EmptyOrNotXmlIsNothing) {
  EXPECT_EQ(ParseErrorBody(""), std::nullopt);
  EXPECT_EQ(ParseErrorBody("Service Unavailable"), std::nullopt);
  EXPECT_EQ(ParseErrorBody("<html><body>502 Bad Gateway</body></html>"), std::nullopt);
  EXPECT_EQ(ParseErrorBody("<Error><Code>NoSuchKey</Code>"), std::nullopt);
  EXPECT_EQ(ParseErrorBody(std::string_view("\0\0\0", 3)), std::nullopt);
}

// --- ParseListPage -----------------------------------------------------------------

TEST(ParseListPageTest, AwsDocumentationExample) {
  // The first example of AWS's ListObjectsV2 page.
  constexpr char kBody[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
    <Name>bucket</Name>
    <Prefix/>
    <KeyCount>205</KeyCount>
    <MaxKeys>1000</MaxKeys>
    <IsTruncated>false</IsTruncated>
    <Contents>
        <Key>my-image.jpg</Key>
        <LastModified>2009-10-12T17:50:30.000Z</LastModified>
        <ETag>"fba9dede5f27731c9771645a39863328"</ETag>
        <Size>434234</Size>
        <StorageClass>STANDARD</StorageClass>
    </Contents>
    <Contents>
        <Key>my+image%.jpg</Key>
        <LastModified>2009-10-12T17:50:31Z</LastModified>
        <ETag>"3857b55a5fa43d44f3a0cde3bd6b6a4d-2"</ETag>
        <Size>12884901888</Size>
        <StorageClass>STANDARD</StorageClass>
    </Contents>
</ListBucketResult>)";
  auto page = ParseListPage(kBody);
  ASSERT_TRUE(page.ok()) << page.error();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "my-image.jpg");
  EXPECT_EQ(page->objects[0].size, 434234u);
  EXPECT_EQ(page->objects[0].etag, "fba9dede5f27731c9771645a39863328");
  EXPECT_EQ(page->objects[0].last_modified_ms, 1255369830000);
  // Not asked for encoding-type=url: the key is as it is.
  EXPECT_EQ(page->objects[1].key, "my+image%.jpg");
  EXPECT_EQ(page->objects[1].size, 12884901888u);
  EXPECT_EQ(page->objects[1].etag, "3857b55a5fa43d44f3a0cde3bd6b6a4d-2");
  EXPECT_EQ(page->objects[1].last_modified_ms, 1255369831000);
  EXPECT_EQ(page->next_continuation_token, "");
}

TEST(ParseListPageTest, UrlEncodedKeysAreDecoded) {
  constexpr char kBody[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>photos</Name><Prefix>pending%2F</Prefix><MaxKeys>1000</MaxKeys>
  <EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>
  <Contents>
    <Key>pending/a+b%2Bc%25.jpg</Key>
    <LastModified>2026-12-07T18:31:55.075Z</LastModified>
    <ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag>
    <Size>0</Size><StorageClass>STANDARD</StorageClass>
  </Contents>
  <Contents>
    <Key>pending/caf%C3%A9/%E5%86%99%E7%9C%9F.jpg</Key>
    <LastModified>2026-12-07T18:31:55.075Z</LastModified>
    <ETag>"0cc175b9c0f1b6a831c399e269772661"</ETag>
    <Size>1</Size><StorageClass>STANDARD</StorageClass>
  </Contents>
  <KeyCount>2</KeyCount>
</ListBucketResult>)";
  auto page = ParseListPage(kBody);
  ASSERT_TRUE(page.ok()) << page.error();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "pending/a b+c%.jpg");
  EXPECT_EQ(page->objects[0].etag, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(page->objects[0].size, 0u);
  EXPECT_EQ(page->objects[0].last_modified_ms, 1796668315075);
  EXPECT_EQ(page->objects[1].key, "pending/caf\xC3\xA9/\xE5\x86\x99\xE7\x9C\x9F.jpg");
  EXPECT_EQ(page->objects[1].size, 1u);
}

TEST(ParseListPageTest, MalformedUrlEncodedKeyIsAnError) {
  constexpr char kBody[] = R"(<ListBucketResult>
  <EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>
  <Contents><Key>pending/100%.jpg</Key><Size>1</Size></Contents>
</ListBucketResult>)";
  EXPECT_FALSE(ParseListPage(kBody).ok());
}

TEST(ParseListPageTest, TruncatedPageGivesItsContinuationToken) {
  // The second example of AWS's ListObjectsV2 page.
  constexpr char kBody[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name>
  <Prefix></Prefix>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <KeyCount>1000</KeyCount>
  <MaxKeys>1000</MaxKeys>
  <IsTruncated>true</IsTruncated>
  <Contents>
    <Key>happyface.jpg</Key>
    <LastModified>2014-11-21T19:40:05.000Z</LastModified>
    <ETag>"70ee1738b6b21e2c8a43f3a5ab0eee71"</ETag>
    <Size>11</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
</ListBucketResult>)";
  auto page = ParseListPage(kBody);
  ASSERT_TRUE(page.ok()) << page.error();
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "happyface.jpg");
  EXPECT_EQ(page->next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
}

TEST(ParseListPageTest, TokenOfALastPageIsIgnored) {
  constexpr char kBody[] = R"(<ListBucketResult>
  <IsTruncated>false</IsTruncated>
  <NextContinuationToken>stale</NextContinuationToken>
</ListBucketResult>)";
  auto page = ParseListPage(kBody);
  ASSERT_TRUE(page.ok()) << page.error();
  EXPECT_EQ(page->next_continuation_token, "");
}

TEST(ParseListPageTest, TruncatedWithoutTokenIsAnError) {
  constexpr char kBody[] = R"(<ListBucketResult>
  <IsTruncated>true</IsTruncated>
  <Contents><Key>a.jpg</Key><Size>1</Size></Contents>
</ListBucketResult>)";
  auto page = ParseListPage(kBody);
  ASSERT_FALSE(page.ok());
  EXPECT_NE(page.error().find("NextContinuationToken"), std::string::npos) << page.error();
}

TEST(ParseListPageTest, EmptyBucket) {
  constexpr char kBody[] =
      R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>photos</Name>)"
      R"(<Prefix>pending/</Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys>)"
      R"(<IsTruncated>false</IsTruncated></ListBucketResult>)";
  auto page = ParseListPage(kBody);
  ASSERT_TRUE(page.ok()) << page.error();
  EXPECT_TRUE(page->objects.empty());
  EXPECT_EQ(page->next_continuation_token, "");
}

TEST(ParseListPageTest, MissingElementsReadAsEmpty) {
  constexpr char kBody[] = R"(<ListBucketResult>
  <Contents><Key>a.jpg</Key></Contents>
  <Contents><Key>b.jpg</Key><Size>lots</Size><LastModified>yesterday</LastModified></Contents>
</ListBucketResult>)";
  auto page = ParseListPage(kBody);
  ASSERT_TRUE(page.ok()) << page.error();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "a.jpg");
  EXPECT_EQ(page->objects[0].size, 0u);
  EXPECT_EQ(page->objects[0].etag, "");
  EXPECT_EQ(page->objects[0].last_modified_ms, 0);
  EXPECT_EQ(page->objects[1].size, 0u);
  EXPECT_EQ(page->objects[1].last_modified_ms, 0);
}

TEST(ParseListPageTest, NotXmlIsAnError) {
  EXPECT_FALSE(ParseListPage("").ok());
  EXPECT_FALSE(ParseListPage("{\"Contents\": []}").ok());
  EXPECT_FALSE(ParseListPage("<ListBucketResult><Contents>").ok());
}

TEST(ParseListPageTest, AnErrorDocumentIsAnError) {
  auto page = ParseListPage(
      "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>"
      "</Error>");
  EXPECT_FALSE(page.ok());
}

// --- ParseIsoTime ------------------------------------------------------------------

TEST(ParseIsoTimeTest, WithMilliseconds) {
  EXPECT_EQ(ParseIsoTime("2026-12-07T18:31:55.075Z"), 1796668315075);
  EXPECT_EQ(ParseIsoTime("2009-10-12T17:50:30.000Z"), 1255369830000);
}

TEST(ParseIsoTimeTest, WithoutFraction) {
  EXPECT_EQ(ParseIsoTime("2009-10-12T17:50:30Z"), 1255369830000);
  EXPECT_EQ(ParseIsoTime("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseIsoTime("2024-02-29T23:59:59Z"), 1709251199000);
}

TEST(ParseIsoTimeTest, OtherFractionLengths) {
  EXPECT_EQ(ParseIsoTime("2009-10-12T17:50:30.5Z"), 1255369830500);
  EXPECT_EQ(ParseIsoTime("2009-10-12T17:50:30.07Z"), 1255369830070);
  // Microseconds and beyond are cut to milliseconds.
  EXPECT_EQ(ParseIsoTime("2009-10-12T17:50:30.123999Z"), 1255369830123);
}

TEST(ParseIsoTimeTest, SignsSpacesShortFieldsAndRolloversAreNothing) {
  for (const char* bad :
       {"2009-10-12T-1:50:30Z", " 2009-10-12T17:50:30Z", "2009-1-2T3:4:5Z", "2009-02-31T00:00:00Z",
        "2009-10-12T17:50:30.Z", "2009-10-12T17:61:30Z"}) {
    EXPECT_EQ(ParseIsoTime(bad), std::nullopt) << bad;
  }
}

TEST(ParseIsoTimeTest, BadInputIsNothing) {
  EXPECT_EQ(ParseIsoTime(""), std::nullopt);
  EXPECT_EQ(ParseIsoTime("yesterday"), std::nullopt);
  EXPECT_EQ(ParseIsoTime("2009-10-12"), std::nullopt);
  EXPECT_EQ(ParseIsoTime("2009-10-12 17:50:30Z"), std::nullopt);
  EXPECT_EQ(ParseIsoTime("2009-10-12T17:50:30"), std::nullopt);  // no zone
  EXPECT_EQ(ParseIsoTime("2009-10-12T17:50:30+02:00"), std::nullopt);
  EXPECT_EQ(ParseIsoTime("2009-10-12T17:50:30.000Zjunk"), std::nullopt);
  EXPECT_EQ(ParseIsoTime("2009-13-12T17:50:30Z"), std::nullopt);
  EXPECT_EQ(ParseIsoTime("2009-00-12T17:50:30Z"), std::nullopt);
  EXPECT_EQ(ParseIsoTime("2009-10-32T17:50:30Z"), std::nullopt);
  EXPECT_EQ(ParseIsoTime("2009-10-12T24:50:30Z"), std::nullopt);
  EXPECT_EQ(ParseIsoTime("2009-10-12T17:60:30Z"), std::nullopt);
  // RFC 1123, as in the Last-Modified header, is not this format.
  EXPECT_EQ(ParseIsoTime("Mon, 12 Oct 2009 17:50:30 GMT"), std::nullopt);
}

// --- Unquote -----------------------------------------------------------------------

TEST(UnquoteTest, DropsSurroundingQuotes) {
  EXPECT_EQ(Unquote("\"fba9dede5f27731c9771645a39863328\""), "fba9dede5f27731c9771645a39863328");
  EXPECT_EQ(Unquote("\"3857b55a5fa43d44f3a0cde3bd6b6a4d-2\""),
            "3857b55a5fa43d44f3a0cde3bd6b6a4d-2");
  EXPECT_EQ(Unquote("\"\""), "");
}

TEST(UnquoteTest, LeavesOtherValuesAlone) {
  EXPECT_EQ(Unquote("fba9dede5f27731c9771645a39863328"), "fba9dede5f27731c9771645a39863328");
  EXPECT_EQ(Unquote(""), "");
  EXPECT_EQ(Unquote("\""), "\"");
  EXPECT_EQ(Unquote("\"abc"), "\"abc");
  EXPECT_EQ(Unquote("abc\""), "abc\"");
}

}  // namespace
}  // namespace sluice::s3
