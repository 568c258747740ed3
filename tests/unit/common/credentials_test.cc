// The credentials file (common/credentials.h): AWS's shared-credentials
// format, lookup by access key id, and an error naming the file and line for
// each fault.
#include "common/credentials.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace sluice {
namespace {

namespace fs = std::filesystem;

// The error of parsing `text` as the file "creds"; "OK" if there is none.
std::string ErrorOf(std::string_view text) {
  Result<CredentialStore> store = CredentialStore::Parse(text, "creds");
  if (store.ok()) return "OK";
  EXPECT_EQ(store.error().code(), StatusCode::kInvalidArgument);
  return store.error().detail();
}

TEST(CredentialsTest, ReadsEverySectionAndFindsByAccessKeyId) {
  Result<CredentialStore> store = CredentialStore::Parse(
      "# Sluice's identities\n"
      "; another comment\n"
      "\n"
      "[alice]\n"
      "aws_access_key_id = AKIDALICE\n"
      "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\n"
      "region = eu-west-3\n"
      "\n"
      "  [ bob ]  \r\n"
      "\tAWS_SECRET_ACCESS_KEY=bob/secret+key==\r\n"
      "aws_access_key_id=AKIDBOB\r\n"
      "   # indented comment\n"
      "[carol]\n"
      "aws_access_key_id   =   AKIDCAROL   \n"
      "aws_secret_access_key =carol",
      "creds");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(store->size(), 3u);

  const Credential* alice = store->Find("AKIDALICE");
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(alice->name, "alice");
  EXPECT_EQ(alice->access_key_id, "AKIDALICE");
  EXPECT_EQ(alice->secret, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");

  const Credential* bob = store->Find("AKIDBOB");
  ASSERT_NE(bob, nullptr);
  EXPECT_EQ(bob->name, "bob");
  EXPECT_EQ(bob->secret, "bob/secret+key==");

  const Credential* carol = store->Find("AKIDCAROL");
  ASSERT_NE(carol, nullptr);
  EXPECT_EQ(carol->name, "carol");
  EXPECT_EQ(carol->secret, "carol");

  EXPECT_EQ(store->Find("AKIDDAVE"), nullptr);
  EXPECT_EQ(store->Find("akidalice"), nullptr);  // ids are case-sensitive
}

TEST(CredentialsTest, EmptyFileHoldsNoCredentials) {
  Result<CredentialStore> store = CredentialStore::Parse("# nobody yet\n\n", "creds");
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(store->size(), 0u);
}

TEST(CredentialsTest, SectionMissingAKeyIsNamedAtItsLine) {
  EXPECT_EQ(ErrorOf("[a]\naws_access_key_id = A\naws_secret_access_key = s\n\n"
                    "[b]\naws_access_key_id = B\n"),
            "creds:5: section [b] has no aws_secret_access_key");
  EXPECT_EQ(ErrorOf("[a]\naws_secret_access_key = s\n[b]\n"),
            "creds:1: section [a] has no aws_access_key_id");
}

TEST(CredentialsTest, DuplicateAccessKeyIdIsNamedAtTheSecond) {
  EXPECT_EQ(ErrorOf("[a]\naws_access_key_id = A\naws_secret_access_key = s\n"
                    "[b]\naws_secret_access_key = t\naws_access_key_id = A\n"),
            "creds:6: the aws_access_key_id of [b] is already [a]'s");
}

TEST(CredentialsTest, LineThatIsNeitherIsNamedButNotQuoted) {
  const std::string error =
      ErrorOf("[a]\naws_access_key_id = A\naws_secret_access_key: wJalrXUtnFEMI/K7MDENG\n");
  EXPECT_EQ(error, "creds:3: expected [name], key = value, a comment or a blank line");
  EXPECT_EQ(ErrorOf("[a]\n= value\n"),
            "creds:2: expected [name], key = value, a comment or a blank line");
  EXPECT_EQ(ErrorOf("[a\n"), "creds:1: expected [name], key = value, a comment or a blank line");
}

TEST(CredentialsTest, OtherFaults) {
  EXPECT_EQ(ErrorOf("aws_access_key_id = A\n"), "creds:1: aws_access_key_id outside a section");
  EXPECT_EQ(ErrorOf("[ ]\n"), "creds:1: a section without a name");
  EXPECT_EQ(ErrorOf("[a]\naws_access_key_id = A\naws_secret_access_key = s\n[a]\n"),
            "creds:4: section [a] given twice (first at line 1)");
  EXPECT_EQ(ErrorOf("[a]\naws_access_key_id = A\naws_access_key_id = B\n"),
            "creds:3: aws_access_key_id given twice in [a]");
  EXPECT_EQ(ErrorOf("[a]\naws_access_key_id = A\naws_secret_access_key =\n"),
            "creds:3: aws_secret_access_key is empty in [a]");
}

class CredentialsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "sluice-credentials-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
};

TEST_F(CredentialsFileTest, LoadsAFile) {
  const std::string path = (dir_ / "credentials").string();
  std::ofstream(path) << "[alice]\naws_access_key_id = AKIDALICE\naws_secret_access_key = s\n";
  Result<CredentialStore> store = CredentialStore::Load(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_NE(store->Find("AKIDALICE"), nullptr);
  EXPECT_EQ(store->Find("AKIDALICE")->name, "alice");

  std::ofstream(path) << "[alice]\n";
  store = CredentialStore::Load(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().detail(), path + ":1: section [alice] has no aws_access_key_id");
}

TEST_F(CredentialsFileTest, UnreadableFileIsInvalidArgumentNamingIt) {
  const std::string missing = (dir_ / "missing").string();
  Result<CredentialStore> store = CredentialStore::Load(missing);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.error().detail(),
            missing + ": cannot open credentials: No such file or directory");

  store = CredentialStore::Load(dir_.string());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store.error().detail(), dir_.string() + ": cannot read credentials: Is a directory");
}

}  // namespace
}  // namespace sluice
