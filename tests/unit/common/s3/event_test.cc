// S3 event notifications as AWS, MinIO and Ceph RGW send them, and the
// decoding of their keys.
#include "common/s3/event.h"

#include <gtest/gtest.h>

#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/s3/config.h"

namespace sluice::s3 {
namespace {

using json = nlohmann::json;

// One record of `source` ("aws:s3", "minio:s3", "ceph:s3") with the fields
// ParseEvent reads.
json Record(const std::string& source, const std::string& event_name, const std::string& key,
            const std::string& etag = "d41d8cd98f00b204e9800998ecf8427e",
            const std::string& sequencer = "0055AED6DCD90281E5") {
  return json{{"eventVersion", "2.1"},
              {"eventSource", source},
              {"eventName", event_name},
              {"s3",
               {{"bucket", {{"name", "photos"}}},
                {"object", {{"key", key}, {"eTag", etag}, {"sequencer", sequencer}}}}}};
}

json Records(std::initializer_list<json> records) {
  json array = json::array();
  for (const json& record : records) array.push_back(record);
  return json{{"Records", std::move(array)}};
}

Event MustParse(const json& doc) {
  auto event = ParseEvent(doc);
  EXPECT_TRUE(event.ok()) << event.error();
  return event.ok() ? std::move(*event) : Event{};
}

// --- DecodeKey ------------------------------------------------------------------

TEST(DecodeKeyTest, DecodesEscapesAndPlus) {
  EXPECT_EQ(DecodeKey("a+b%2Fc%2fd"), "a b/c/d");
  EXPECT_EQ(DecodeKey("%2B"), "+");
  EXPECT_EQ(DecodeKey("caf%C3%A9.jpg"), "caf\xC3\xA9.jpg");
  EXPECT_EQ(DecodeKey("plain/key.jpg"), "plain/key.jpg");
  EXPECT_EQ(DecodeKey(""), "");
}

TEST(DecodeKeyTest, EscapeAtTheVeryEnd) {
  EXPECT_EQ(DecodeKey("a%41"), "aA");
  EXPECT_EQ(DecodeKey("%41"), "A");
}

TEST(DecodeKeyTest, MalformedEscapesFail) {
  EXPECT_EQ(DecodeKey("%"), std::nullopt);
  EXPECT_EQ(DecodeKey("%4"), std::nullopt);
  EXPECT_EQ(DecodeKey("%zz"), std::nullopt);
  EXPECT_EQ(DecodeKey("%4g"), std::nullopt);
  EXPECT_EQ(DecodeKey("abc%"), std::nullopt);
}

// --- ParseEvent on real bodies ------------------------------------------------------
// From SLUICE_S3_TESTDATA: captured from Ceph RGW 16.2, built from MinIO's code,
// copied from AWS's documentation (its README.md says which is which).

// The JSON in testdata/`name`; a discarded value, and a failure, when there
// is no such file or it is not JSON.
json LoadBody(const std::string& name) {
  std::ifstream in(std::string(SLUICE_S3_TESTDATA) + "/" + name, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "no " << SLUICE_S3_TESTDATA << "/" << name;
    return json(json::value_t::discarded);
  }
  std::stringstream text;
  text << in.rdbuf();
  json doc = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(doc.is_discarded()) << name << " is not JSON";
  return doc;
}

// The one ObjectCreated record of testdata/`name`, checked against the record
// as sent: every field read from its place, the event name without "s3:",
// the key decoded only when `source` encodes it.
EventRecord OnlyRecord(const std::string& name, std::string_view source) {
  const json doc = LoadBody(name);
  if (doc.is_discarded()) return {};
  EXPECT_TRUE(IsEvent(doc)) << name;
  const Event event = MustParse(doc);
  EXPECT_FALSE(event.test_event) << name;
  EXPECT_TRUE(event.skipped.empty()) << name;
  if (event.created.size() != 1) {
    ADD_FAILURE() << name << ": " << event.created.size() << " records, not 1";
    return {};
  }
  const EventRecord& record = event.created[0];
  const json& raw = doc["Records"][0];
  const std::string raw_name = raw["eventName"].get<std::string>();
  const std::string raw_key = raw["s3"]["object"]["key"].get<std::string>();
  EXPECT_EQ(record.index, 0u);
  EXPECT_EQ(record.source, source) << name;
  EXPECT_EQ(record.event_name, raw_name.starts_with("s3:") ? raw_name.substr(3) : raw_name);
  EXPECT_EQ(record.key, source == "ceph:s3" ? std::optional(raw_key) : DecodeKey(raw_key)) << name;
  EXPECT_TRUE(IsValidBucketName(record.bucket)) << record.bucket;
  // A pusher's retry of the same body makes the same id.
  const Event again = MustParse(doc);
  EXPECT_EQ(again.created.size(), 1u);
  if (again.created.size() == 1) {
    EXPECT_EQ(DeduplicationId(again.created[0]), DeduplicationId(record));
  }
  return record;
}

// "pending/ñandú/東京.jpg" in UTF-8.
constexpr char kUnicodeKey[] =
    "pending/\xC3\xB1"
    "and\xC3\xBA/\xE6\x9D\xB1\xE4\xBA\xAC.jpg";

TEST(RealEventTest, RgwPut) {
  const EventRecord record = OnlyRecord("rgw_put.json", "ceph:s3");
  EXPECT_EQ(record.bucket, "photos");
  EXPECT_EQ(record.key, "pending/plain.jpg");
  EXPECT_EQ(record.event_name, "ObjectCreated:Put");
  EXPECT_EQ(record.etag, "f153a2b1b4b6102441b34b8853b91231");
  EXPECT_EQ(record.sequencer, "C704176B3FF3DC39");
}

TEST(RealEventTest, RgwSpacePlusPercentKeyStaysLiteral) {
  const EventRecord record = OnlyRecord("rgw_space_plus_percent.json", "ceph:s3");
  EXPECT_EQ(record.bucket, "photos");
  EXPECT_EQ(record.key, "pending/a b+c%.jpg");
  EXPECT_EQ(record.event_name, "ObjectCreated:Put");
  EXPECT_EQ(record.etag, "f153a2b1b4b6102441b34b8853b91231");
  EXPECT_EQ(record.sequencer, "C704176B7F35B83A");
}

TEST(RealEventTest, RgwUnicodeKeyStaysLiteral) {
  const EventRecord record = OnlyRecord("rgw_unicode_key.json", "ceph:s3");
  EXPECT_EQ(record.key, kUnicodeKey);
  EXPECT_EQ(record.sequencer, "C704176B4B7F1B3B");
}

TEST(RealEventTest, RgwSpecialKeysStayLiteral) {
  const EventRecord record = OnlyRecord("rgw_special_keys.json", "ceph:s3");
  EXPECT_EQ(record.bucket, "photos");
  EXPECT_EQ(record.key,
            "pending/\xC3\xB1"
            "and\xC3\xBA/\xE6\x9D\xB1\xE4\xBA\xAC a b+c%.jpg");
  EXPECT_EQ(record.etag, "f153a2b1b4b6102441b34b8853b91231");
  EXPECT_EQ(record.sequencer, "C704176BB68F493A");
  // What the worker did before: decoding RGW's key fails on its '%'.
  EXPECT_EQ(DecodeKey(record.key), std::nullopt);
}

TEST(RealEventTest, RgwMultipart) {
  const EventRecord record = OnlyRecord("rgw_multipart.json", "ceph:s3");
  EXPECT_EQ(record.bucket, "photos");
  EXPECT_EQ(record.key, "pending/multipart.jpg");
  EXPECT_EQ(record.event_name, "ObjectCreated:CompleteMultipartUpload");
  EXPECT_EQ(record.etag, "ae09e363e85ceb245c3cf242c88ff7d5-2");
  EXPECT_EQ(record.sequencer, "C804176B751EE10B");
}

TEST(RealEventTest, MinioPutDropsThePrefixAndDecodesTheKey) {
  const EventRecord record = OnlyRecord("minio_put.json", "minio:s3");
  EXPECT_EQ(record.bucket, "photos");
  EXPECT_EQ(record.key, "pending/a b+c%.jpg");
  EXPECT_EQ(record.event_name, "ObjectCreated:Put");
  EXPECT_EQ(record.etag, "d8e8fca2dc0f896fd7cb4cb0031ba249");
  EXPECT_EQ(record.sequencer, "18504C4ADA8EBF58");
}

TEST(RealEventTest, MinioUnicodeKeyIsDecoded) {
  const EventRecord record = OnlyRecord("minio_unicode_key.json", "minio:s3");
  EXPECT_EQ(record.bucket, "photos");
  EXPECT_EQ(record.key, kUnicodeKey);
  EXPECT_EQ(record.event_name, "ObjectCreated:Put");
  EXPECT_EQ(record.etag, "5337769ffa594e742408ad3f30713cd7");
  EXPECT_EQ(record.sequencer, "18504C4ADB2F1A03");
}

TEST(RealEventTest, MinioDocumentationExample) {
  const EventRecord record = OnlyRecord("minio_docs_example.json", "minio:s3");
  EXPECT_EQ(record.bucket, "images");
  EXPECT_EQ(record.key, "gopher.jpg");
  EXPECT_EQ(record.event_name, "ObjectCreated:Put");
  EXPECT_EQ(record.etag, "5337769ffa594e742408ad3f30713cd7");
  EXPECT_EQ(record.sequencer, "1562A792DAA53426");
}

TEST(RealEventTest, AwsPut) {
  const EventRecord record = OnlyRecord("aws_put.json", "aws:s3");
  EXPECT_EQ(record.bucket, "mybucket");
  EXPECT_EQ(record.key, "HappyFace.jpg");
  EXPECT_EQ(record.event_name, "ObjectCreated:Put");
  EXPECT_EQ(record.etag, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(record.sequencer, "0055AED6DCD90281E5");
}

TEST(RealEventTest, AwsTestEvent) {
  const json doc = LoadBody("aws_test_event.json");
  ASSERT_FALSE(doc.is_discarded());
  EXPECT_TRUE(IsEvent(doc));
  const Event event = MustParse(doc);
  EXPECT_TRUE(event.test_event);
  EXPECT_TRUE(event.created.empty());
  EXPECT_TRUE(event.skipped.empty());
}

TEST(RealEventTest, RgwAndMinioAgreeOnTheSameUpload) {
  // The same key, sent literally by RGW and URL-encoded by MinIO.
  EXPECT_EQ(OnlyRecord("rgw_space_plus_percent.json", "ceph:s3").key,
            OnlyRecord("minio_put.json", "minio:s3").key);
  EXPECT_EQ(OnlyRecord("rgw_unicode_key.json", "ceph:s3").key,
            OnlyRecord("minio_unicode_key.json", "minio:s3").key);
}

TEST(RealEventTest, SameBytesUnderOtherKeysGetOtherIds) {
  // Four RGW uploads of the same bytes (one ETag) under four keys.
  std::set<std::string> ids;
  for (const char* name : {"rgw_put.json", "rgw_space_plus_percent.json", "rgw_unicode_key.json",
                           "rgw_special_keys.json"}) {
    const EventRecord record = OnlyRecord(name, "ceph:s3");
    EXPECT_EQ(record.etag, "f153a2b1b4b6102441b34b8853b91231") << name;
    ids.insert(DeduplicationId(record));
  }
  EXPECT_EQ(ids.size(), 4u);
}

// --- ParseEvent on bodies made here -------------------------------------------------

TEST(ParseEventTest, KeysAreDecodedOnlyForAwsAndMinio) {
  const Event event =
      MustParse(Records({Record("aws:s3", "ObjectCreated:Put", "a+b%2Bc%25.jpg"),
                         Record("minio:s3", "s3:ObjectCreated:Put", "a+b%2Bc%25.jpg"),
                         Record("ceph:s3", "ObjectCreated:Put", "a b+c%.jpg"),
                         Record("ceph:s3", "ObjectCreated:Put", "a+b%2Bc%25.jpg")}));
  ASSERT_EQ(event.created.size(), 4u);
  EXPECT_EQ(event.created[0].key, "a b+c%.jpg");
  EXPECT_EQ(event.created[1].key, "a b+c%.jpg");
  EXPECT_EQ(event.created[2].key, "a b+c%.jpg");
  // RGW sends keys literally: this one is named with escapes.
  EXPECT_EQ(event.created[3].key, "a+b%2Bc%25.jpg");
  EXPECT_EQ(event.created[3].source, "ceph:s3");
}

TEST(ParseEventTest, KeyWithoutSourceIsLiteral) {
  json record = Record("", "ObjectCreated:Put", "a+b%.jpg");
  record.erase("eventSource");
  const Event event = MustParse(Records({record}));
  ASSERT_EQ(event.created.size(), 1u);
  EXPECT_EQ(event.created[0].key, "a+b%.jpg");
  EXPECT_EQ(event.created[0].source, "");
}

TEST(ParseEventTest, CephKeyWithAPercentIsFine) {
  const Event event = MustParse(Records({Record("ceph:s3", "ObjectCreated:Put", "100%"),
                                         Record("ceph:s3", "ObjectCreated:Put", "%zz%4")}));
  ASSERT_EQ(event.created.size(), 2u);
  EXPECT_EQ(event.created[0].key, "100%");
  EXPECT_EQ(event.created[1].key, "%zz%4");
}

TEST(ParseEventTest, MalformedEscapeInAnEncodedKeyIsAnError) {
  EXPECT_FALSE(ParseEvent(Records({Record("aws:s3", "ObjectCreated:Put", "100%.jpg")})).ok());
  EXPECT_FALSE(ParseEvent(Records({Record("minio:s3", "s3:ObjectCreated:Put", "a%zz")})).ok());
  EXPECT_FALSE(ParseEvent(Records({Record("aws:s3", "ObjectCreated:Put", "a%4")})).ok());
}

TEST(ParseEventTest, MalformedEscapeInASkippedRecordIsNoError) {
  const Event event = MustParse(Records({Record("aws:s3", "ObjectRemoved:Delete", "100%.jpg"),
                                         Record("aws:s3", "ObjectCreated:Put", "ok.jpg")}));
  EXPECT_EQ(event.created.size(), 1u);
  EXPECT_EQ(event.skipped.size(), 1u);
}

TEST(ParseEventTest, PrefixS3IsDropped) {
  const Event event =
      MustParse(Records({Record("minio:s3", "s3:ObjectCreated:CompleteMultipartUpload", "a"),
                         Record("aws:s3", "ObjectCreated:Copy", "b")}));
  ASSERT_EQ(event.created.size(), 2u);
  EXPECT_EQ(event.created[0].event_name, "ObjectCreated:CompleteMultipartUpload");
  EXPECT_EQ(event.created[1].event_name, "ObjectCreated:Copy");
  EXPECT_TRUE(event.skipped.empty());
}

TEST(ParseEventTest, OtherKindsAreSkippedWithAReason) {
  const Event event = MustParse(Records(
      {Record("aws:s3", "ObjectRemoved:Delete", "a"),
       Record("minio:s3", "s3:ObjectAccessed:Get", "b"), Record("aws:s3", "ObjectCreated:Put", "c"),
       Record("ceph:s3", "ObjectLifecycle:Expiration:Current", "d"),
       Record("aws:s3", "s3:ObjectCreatedd", "e"), Record("aws:s3", "ObjectCreated", "f")}));
  ASSERT_EQ(event.created.size(), 1u);
  EXPECT_EQ(event.created[0].key, "c");
  EXPECT_EQ(event.created[0].index, 2u);
  ASSERT_EQ(event.skipped.size(), 5u);
  EXPECT_EQ(event.skipped[0].event_name, "ObjectRemoved:Delete");
  EXPECT_EQ(event.skipped[1].event_name, "s3:ObjectAccessed:Get");  // as sent
  for (const SkippedRecord& skipped : event.skipped) {
    EXPECT_EQ(skipped.reason, "not_object_created") << skipped.event_name;
  }
}

TEST(ParseEventTest, RecordWithoutEventNameIsSkipped) {
  json record = Record("aws:s3", "", "a");
  record.erase("eventName");
  const Event event = MustParse(Records({record}));
  EXPECT_TRUE(event.created.empty());
  ASSERT_EQ(event.skipped.size(), 1u);
  EXPECT_EQ(event.skipped[0].event_name, "");
  EXPECT_EQ(event.skipped[0].reason, "not_object_created");
}

TEST(ParseEventTest, TestEventHasNoRecords) {
  // What Amazon S3 sends when notifications are configured.
  const Event event = MustParse(json::parse(R"({"Service":"Amazon S3","Event":"s3:TestEvent",
    "Time":"2014-10-13T15:57:02.089Z","Bucket":"photos","RequestId":"5582815E1AEA5ADF",
    "HostId":"8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"})"));
  EXPECT_TRUE(event.test_event);
  EXPECT_TRUE(event.created.empty());
  EXPECT_TRUE(event.skipped.empty());
}

TEST(ParseEventTest, EmptyRecords) {
  const Event event = MustParse(json{{"Records", json::array()}});
  EXPECT_FALSE(event.test_event);
  EXPECT_TRUE(event.created.empty());
  EXPECT_TRUE(event.skipped.empty());
}

TEST(ParseEventTest, NotAnEventIsAnError) {
  EXPECT_FALSE(ParseEvent(json::object()).ok());
  EXPECT_FALSE(ParseEvent(json::array()).ok());
  EXPECT_FALSE(ParseEvent(json("Records")).ok());
  EXPECT_FALSE(ParseEvent(json(nullptr)).ok());
  EXPECT_FALSE(ParseEvent(json{{"Event", "s3:ObjectCreated:Put"}}).ok());
  EXPECT_FALSE(ParseEvent(json{{"Records", json::object()}}).ok());
  EXPECT_FALSE(ParseEvent(json{{"Records", "x"}}).ok());
  EXPECT_FALSE(ParseEvent(json{{"Records", nullptr}}).ok());
}

TEST(ParseEventTest, CreatedRecordWithoutBucketOrKeyIsAnError) {
  json no_key = Record("aws:s3", "ObjectCreated:Put", "a");
  no_key["s3"]["object"].erase("key");
  EXPECT_FALSE(ParseEvent(Records({no_key})).ok());
  json no_bucket = Record("aws:s3", "ObjectCreated:Put", "a");
  no_bucket["s3"]["bucket"].erase("name");
  EXPECT_FALSE(ParseEvent(Records({no_bucket})).ok());
  json no_s3 = Record("aws:s3", "ObjectCreated:Put", "a");
  no_s3.erase("s3");
  EXPECT_FALSE(ParseEvent(Records({no_s3})).ok());
}

TEST(ParseEventTest, MissingEtagAndSequencerReadAsEmpty) {
  json record = Record("ceph:s3", "ObjectCreated:Put", "a");
  record["s3"]["object"].erase("eTag");
  record["s3"]["object"].erase("sequencer");
  const Event event = MustParse(Records({record}));
  ASSERT_EQ(event.created.size(), 1u);
  EXPECT_EQ(event.created[0].etag, "");
  EXPECT_EQ(event.created[0].sequencer, "");
}

TEST(ParseEventTest, WrongTypesAnywhereNeverThrow) {
  const json created = Record("aws:s3", "ObjectCreated:Put", "a");
  std::vector<json> docs = {
      json(1),
      json(1.5),
      json(true),
      json{{"Records", 1}},
      json{{"Records", json::array({nullptr, 1, "x", json::array(), json::object()})}},
      json{{"Event", 5}},
      json{{"Event", json::array()}},
      json{{"Event", "s3:TestEvent"}, {"Records", 5}},
  };
  // Every step of the path to each field, replaced by each wrong type.
  const std::vector<std::vector<std::string>> paths = {
      {"eventName"},           {"eventSource"},          {"s3"},
      {"s3", "bucket"},        {"s3", "bucket", "name"}, {"s3", "object"},
      {"s3", "object", "key"}, {"s3", "object", "eTag"}, {"s3", "object", "sequencer"}};
  const std::vector<json> wrong = {nullptr, 7, -1.5, false, json::array({"x"}), json::object(), ""};
  for (const auto& path : paths) {
    for (const json& value : wrong) {
      json record = created;
      json* at = &record;
      for (size_t i = 0; i + 1 < path.size(); ++i) at = &(*at)[path[i]];
      (*at)[path.back()] = value;
      docs.push_back(Records({record}));
    }
  }
  for (const json& doc : docs) {
    EXPECT_NO_THROW({
      auto event = ParseEvent(doc);
      if (event.ok()) {
        for (const EventRecord& record : event->created) (void)DeduplicationId(record);
      }
    }) << doc.dump();
    EXPECT_NO_THROW((void)IsEvent(doc)) << doc.dump();
  }
}

TEST(ParseEventTest, WrongTypedEtagReadsAsEmpty) {
  json record = Record("aws:s3", "ObjectCreated:Put", "a");
  record["s3"]["object"]["eTag"] = 12345;
  record["s3"]["object"]["sequencer"] = json::array();
  record["eventSource"] = 1;
  const Event event = MustParse(Records({record}));
  ASSERT_EQ(event.created.size(), 1u);
  EXPECT_EQ(event.created[0].etag, "");
  EXPECT_EQ(event.created[0].sequencer, "");
  EXPECT_EQ(event.created[0].source, "");
}

// --- DeduplicationId --------------------------------------------------------------

EventRecord Created(std::string key, std::string etag, std::string sequencer) {
  EventRecord record;
  record.event_name = "ObjectCreated:Put";
  record.source = "ceph:s3";
  record.bucket = "photos";
  record.key = std::move(key);
  record.etag = std::move(etag);
  record.sequencer = std::move(sequencer);
  return record;
}

TEST(DeduplicationIdTest, SameRecordSameId) {
  const Event first = MustParse(Records({Record("aws:s3", "ObjectCreated:Put", "a.jpg")}));
  const Event retry = MustParse(Records({Record("aws:s3", "ObjectCreated:Put", "a.jpg")}));
  ASSERT_EQ(first.created.size(), 1u);
  ASSERT_EQ(retry.created.size(), 1u);
  EXPECT_EQ(DeduplicationId(first.created[0]), DeduplicationId(retry.created[0]));
  EXPECT_EQ(DeduplicationId(Created("a", "e", "s")), DeduplicationId(Created("a", "e", "s")));
}

TEST(DeduplicationIdTest, IsSha256Hex) {
  const std::string id = DeduplicationId(Created("a", "e", "s"));
  EXPECT_EQ(id.size(), 64u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
}

TEST(DeduplicationIdTest, DiffersWithEtagSequencerKeyOrBucket) {
  const std::string base = DeduplicationId(Created("a", "e", "s"));
  EXPECT_NE(base, DeduplicationId(Created("a", "e2", "s")));
  EXPECT_NE(base, DeduplicationId(Created("a", "e", "s2")));
  EXPECT_NE(base, DeduplicationId(Created("b", "e", "s")));
  EventRecord other_bucket = Created("a", "e", "s");
  other_bucket.bucket = "archive";
  EXPECT_NE(base, DeduplicationId(other_bucket));
}

TEST(DeduplicationIdTest, FieldsDoNotRunTogether) {
  EXPECT_NE(DeduplicationId(Created("ab", "c", "")), DeduplicationId(Created("a", "bc", "")));
  EXPECT_NE(DeduplicationId(Created("a", "", "b")), DeduplicationId(Created("a", "b", "")));
}

TEST(DeduplicationIdTest, EventNameAndSourceDoNotMatter) {
  EventRecord put = Created("a", "e", "s");
  EventRecord copy = put;
  copy.event_name = "ObjectCreated:Copy";
  copy.source = "aws:s3";
  copy.index = 3;
  EXPECT_EQ(DeduplicationId(put), DeduplicationId(copy));
}

// --- IsEvent ----------------------------------------------------------------------

TEST(IsEventTest, RecordsOrTestEvent) {
  EXPECT_TRUE(IsEvent(Records({Record("aws:s3", "ObjectCreated:Put", "a")})));
  EXPECT_TRUE(IsEvent(json{{"Records", json::array()}}));
  EXPECT_TRUE(IsEvent(json{{"Records", 5}}));  // ParseEvent says what is wrong
  EXPECT_TRUE(IsEvent(json{{"Service", "Amazon S3"}, {"Event", "s3:TestEvent"}}));
}

TEST(IsEventTest, OtherDocumentsAreNot) {
  EXPECT_FALSE(IsEvent(json::object()));
  EXPECT_FALSE(IsEvent(json::array()));
  EXPECT_FALSE(IsEvent(json(nullptr)));
  EXPECT_FALSE(IsEvent(json("Records")));
  EXPECT_FALSE(IsEvent(json{{"Event", "s3:ObjectCreated:Put"}}));
  EXPECT_FALSE(IsEvent(json{{"Event", 1}}));
  // A Sluice job message.
  EXPECT_FALSE(IsEvent(json{{"bucket", "photos"}, {"key", "pending/a.jpg"}}));
  // An SNS envelope around an S3 event is not itself one.
  EXPECT_FALSE(IsEvent(json{{"Type", "Notification"}, {"Message", "{\"Records\":[]}"}}));
}

}  // namespace
}  // namespace sluice::s3
