// Principals::Parse: the file's shape, roles, keys, and the errors that keep
// a typing mistake from becoming a silent grant or denial.
#include "broker/auth/principals.h"

#include <gtest/gtest.h>

#include <string>

#include "common/curve_keys.h"

namespace sluice::auth {
namespace {

std::string Key() { return NewCurveKeyPair()->public_key; }

TEST(PrincipalsTest, ParsesPrincipalsWithKeysRolesAndGrants) {
  const std::string k1 = Key(), k2 = Key();
  auto p = Principals::Parse(R"({
    "roles": {"worker": [{"actions": ["ReceiveMessage", "sqs:DeleteMessage"],
                          "queues": ["photos"]}]},
    "principals": {
      "w": {"curve_public_keys": [")" +
                                 k1 + R"(", ")" + k2 + R"("],
            "access_keys": [{"access_key_id": "AKIDW", "secret_access_key": "s3cret"}],
            "roles": ["worker"],
            "grants": [{"actions": ["SendMessage"], "queues": ["photos-dlq"]}]}}})",
                             "p.json");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const Principal* w = p->Find("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(p->FindByCurveKey(k1), w);
  EXPECT_EQ(p->FindByCurveKey(k2), w);  // two keys, for rotation
  EXPECT_EQ(p->FindByCurveKey(Key()), nullptr);
  const Credential* c = p->access_keys().Find("AKIDW");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->name, "w");
  EXPECT_EQ(c->secret, "s3cret");
  EXPECT_TRUE(w->Allows("ReceiveMessage", "photos"));
  EXPECT_TRUE(w->Allows("DeleteMessage", "photos"));  // "sqs:" dropped
  EXPECT_TRUE(w->Allows("SendMessage", "photos-dlq"));
  EXPECT_FALSE(w->Allows("SendMessage", "photos"));
  EXPECT_FALSE(w->Allows("ReceiveMessage", "photos-dlq"));
  EXPECT_FALSE(w->Allows("PurgeQueue", "photos"));
}

TEST(PrincipalsTest, NoGrantsDeniesEverything) {
  auto p = Principals::Parse(R"({"principals": {"nobody": {}}})", "p.json");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FALSE(p->Find("nobody")->Allows("GetQueueUrl", "photos"));
  EXPECT_EQ(p->Find("somebody"), nullptr);
}

void ExpectError(const std::string& text, const std::string& fragment) {
  auto p = Principals::Parse(text, "p.json");
  ASSERT_FALSE(p.ok()) << text;
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().detail().find(fragment), std::string::npos) << p.status().detail();
  EXPECT_EQ(p.status().detail().rfind("p.json: ", 0), 0u) << p.status().detail();
}

TEST(PrincipalsTest, MistakesAreErrorsThatSayWhere) {
  ExpectError("{", "not valid JSON");
  ExpectError(R"({"principal": {}})", "unknown field \"principal\"");
  ExpectError(R"({"principals": {"a": {"grant": []}}})", "principals.a: unknown field \"grant\"");
  ExpectError(
      R"({"principals": {"a": {"grants": [{"actions": ["SendMesage"], "queues": ["q"]}]}}})",
      "principals.a.grants[0].actions: \"SendMesage\" names no action");
  ExpectError(R"({"principals": {"a": {"grants": [{"actions": ["Send*"]}]}}})",
              "needs \"actions\" and \"queues\"");
  ExpectError(R"({"principals": {"a": {"grants": [{"actions": ["*"], "queues": ["a/b"]}]}}})",
              "is not a queue name pattern");
  ExpectError(R"({"principals": {"a": {"roles": ["admin"]}}})", "no role \"admin\"");
  ExpectError(R"({"principals": {"a": {"curve_public_keys": ["short"]}}})",
              "is not a CURVE public key");
  ExpectError(R"({"principals": {"a b": {}}})", "a principal name is");
  ExpectError(R"({"principals": {"a": {"access_keys": [{"access_key_id": "K"}]}}})",
              "needs a non-empty access_key_id and secret_access_key");
}

TEST(PrincipalsTest, AKeyBelongsToOnePrincipal) {
  const std::string k = Key();
  ExpectError(R"({"principals": {"a": {"curve_public_keys": [")" + k + R"("]},
                                 "b": {"curve_public_keys": [")" +
                  k + R"("]}}})",
              "is already a's");
  ExpectError(R"({"principals": {
      "a": {"access_keys": [{"access_key_id": "K", "secret_access_key": "x"}]},
      "b": {"access_keys": [{"access_key_id": "K", "secret_access_key": "y"}]}}})",
              "access key id K is already a's");
}

TEST(PrincipalsTest, SecretsAreNotQuotedInErrors) {
  auto p = Principals::Parse(R"({"principals": {"a": {"access_keys": [
      {"access_key_id": "K", "secret_access_key": "hunter2", "extra": 1}]}}})",
                             "p.json");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().detail().find("hunter2"), std::string::npos) << p.status().detail();
}

}  // namespace
}  // namespace sluice::auth
