// S3 configuration from the environment, bucket names, and where a request
// goes: path style or virtual-host style, with the key percent-encoded once.
#include "common/s3/config.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace sluice::s3 {
namespace {

// An environment of its own for each test, so the process's is never read.
class FakeEnv {
 public:
  FakeEnv() {
    vars_["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE";
    vars_["AWS_SECRET_ACCESS_KEY"] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  }
  void Set(const std::string& name, const std::string& value) { vars_[name] = value; }
  void Unset(const std::string& name) { vars_.erase(name); }
  Getenv getenv() const {
    return [this](const char* name) {
      const auto it = vars_.find(name);
      return it != vars_.end() ? it->second : std::string();
    };
  }

 private:
  std::map<std::string, std::string> vars_;
};

Config PathStyle(std::string scheme, std::string host) {
  Config config;
  config.scheme = std::move(scheme);
  config.host = std::move(host);
  config.path_style = true;
  return config;
}

// --- ConfigFromEnvironment ---------------------------------------------------------

TEST(ConfigFromEnvironmentTest, NoEndpointMeansAwsInUsEast1) {
  FakeEnv env;
  auto config = ConfigFromEnvironment("", false, env.getenv());
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config->scheme, "https");
  EXPECT_EQ(config->host, "s3.us-east-1.amazonaws.com");
  EXPECT_EQ(config->region, "us-east-1");
  EXPECT_FALSE(config->path_style);
  EXPECT_EQ(config->access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(config->secret_access_key, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
  EXPECT_EQ(config->session_token, "");
}

TEST(ConfigFromEnvironmentTest, AwsHostFollowsTheRegion) {
  FakeEnv env;
  env.Set("AWS_REGION", "eu-west-3");
  auto config = ConfigFromEnvironment("", false, env.getenv());
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config->host, "s3.eu-west-3.amazonaws.com");
  EXPECT_EQ(config->region, "eu-west-3");
}

TEST(ConfigFromEnvironmentTest, AwsRegionBeforeAwsDefaultRegion) {
  FakeEnv env;
  env.Set("AWS_REGION", "ap-southeast-2");
  env.Set("AWS_DEFAULT_REGION", "ca-central-1");
  auto config = ConfigFromEnvironment("", false, env.getenv());
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config->region, "ap-southeast-2");
}

TEST(ConfigFromEnvironmentTest, AwsDefaultRegionWhenNoAwsRegion) {
  FakeEnv env;
  env.Set("AWS_DEFAULT_REGION", "ca-central-1");
  auto config = ConfigFromEnvironment("", false, env.getenv());
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config->region, "ca-central-1");
  EXPECT_EQ(config->host, "s3.ca-central-1.amazonaws.com");
}

TEST(ConfigFromEnvironmentTest, RegionAppliesToACustomEndpointToo) {
  FakeEnv env;
  env.Set("AWS_REGION", "default");
  auto config = ConfigFromEnvironment("http://127.0.0.1:7480", true, env.getenv());
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config->region, "default");
  EXPECT_EQ(config->host, "127.0.0.1:7480");
}

TEST(ConfigFromEnvironmentTest, HttpEndpointWithPort) {
  FakeEnv env;
  auto config = ConfigFromEnvironment("http://127.0.0.1:7480", true, env.getenv());
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config->scheme, "http");
  EXPECT_EQ(config->host, "127.0.0.1:7480");
  EXPECT_TRUE(config->path_style);
}

TEST(ConfigFromEnvironmentTest, HttpsEndpointWithoutPort) {
  FakeEnv env;
  auto config = ConfigFromEnvironment("https://minio.example.com", false, env.getenv());
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config->scheme, "https");
  EXPECT_EQ(config->host, "minio.example.com");
  EXPECT_FALSE(config->path_style);
}

TEST(ConfigFromEnvironmentTest, TrailingSlashesAreDropped) {
  FakeEnv env;
  auto one = ConfigFromEnvironment("http://rgw.local:8080/", true, env.getenv());
  ASSERT_TRUE(one.ok()) << one.error();
  EXPECT_EQ(one->host, "rgw.local:8080");
  auto two = ConfigFromEnvironment("https://rgw.local//", true, env.getenv());
  ASSERT_TRUE(two.ok()) << two.error();
  EXPECT_EQ(two->host, "rgw.local");
}

TEST(ConfigFromEnvironmentTest, EndpointWithAPathIsAnError) {
  FakeEnv env;
  auto config = ConfigFromEnvironment("http://127.0.0.1:7480/photos", true, env.getenv());
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().find("http://127.0.0.1:7480/photos"), std::string::npos)
      << config.error();
}

TEST(ConfigFromEnvironmentTest, EndpointWithABadPortOrNoHostIsAnError) {
  FakeEnv env;
  for (const char* endpoint :
       {"http://host:abc", "http://host:", "http://:9000", "http://host:99999", "http://host:0",
        "http://host:80:90", "http://[::1", "http://[]:80"}) {
    EXPECT_FALSE(ConfigFromEnvironment(endpoint, true, env.getenv()).ok()) << endpoint;
  }
  auto v6 = ConfigFromEnvironment("http://[::1]:7480", true, env.getenv());
  ASSERT_TRUE(v6.ok()) << v6.error();
  EXPECT_EQ(v6->host, "[::1]:7480");
}

TEST(ConfigFromEnvironmentTest, EndpointWithAUserIsAnError) {
  FakeEnv env;
  EXPECT_FALSE(ConfigFromEnvironment("http://admin@127.0.0.1:7480", true, env.getenv()).ok());
  EXPECT_FALSE(ConfigFromEnvironment("http://admin:pw@127.0.0.1:7480", true, env.getenv()).ok());
}

TEST(ConfigFromEnvironmentTest, EndpointWithAQueryOrFragmentIsAnError) {
  FakeEnv env;
  EXPECT_FALSE(ConfigFromEnvironment("http://127.0.0.1:7480?x=1", true, env.getenv()).ok());
  EXPECT_FALSE(ConfigFromEnvironment("http://127.0.0.1:7480#top", true, env.getenv()).ok());
  EXPECT_FALSE(ConfigFromEnvironment("http://127.0.0.1 :7480", true, env.getenv()).ok());
}

TEST(ConfigFromEnvironmentTest, OtherSchemesAreErrors) {
  FakeEnv env;
  EXPECT_FALSE(ConfigFromEnvironment("ftp://127.0.0.1:7480", true, env.getenv()).ok());
  EXPECT_FALSE(ConfigFromEnvironment("s3://photos", true, env.getenv()).ok());
  EXPECT_FALSE(ConfigFromEnvironment("file:///tmp", true, env.getenv()).ok());
  EXPECT_FALSE(ConfigFromEnvironment("://127.0.0.1", true, env.getenv()).ok());
}

TEST(ConfigFromEnvironmentTest, MissingSchemeIsAnError) {
  FakeEnv env;
  auto config = ConfigFromEnvironment("127.0.0.1:7480", true, env.getenv());
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().find("127.0.0.1:7480"), std::string::npos) << config.error();
  EXPECT_FALSE(ConfigFromEnvironment("minio.example.com", true, env.getenv()).ok());
}

TEST(ConfigFromEnvironmentTest, EndpointWithNoHostIsAnError) {
  FakeEnv env;
  EXPECT_FALSE(ConfigFromEnvironment("http://", true, env.getenv()).ok());
  EXPECT_FALSE(ConfigFromEnvironment("https:///", true, env.getenv()).ok());
}

TEST(ConfigFromEnvironmentTest, MissingAccessKeyIsAnError) {
  FakeEnv env;
  env.Unset("AWS_ACCESS_KEY_ID");
  auto config = ConfigFromEnvironment("", false, env.getenv());
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().find("AWS_ACCESS_KEY_ID"), std::string::npos) << config.error();
}

TEST(ConfigFromEnvironmentTest, MissingSecretIsAnError) {
  FakeEnv env;
  env.Unset("AWS_SECRET_ACCESS_KEY");
  auto config = ConfigFromEnvironment("http://127.0.0.1:7480", true, env.getenv());
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << config.error();
}

TEST(ConfigFromEnvironmentTest, EmptyCredentialsAreMissing) {
  FakeEnv env;
  env.Set("AWS_ACCESS_KEY_ID", "");
  EXPECT_FALSE(ConfigFromEnvironment("", false, env.getenv()).ok());
}

TEST(ConfigFromEnvironmentTest, SessionTokenIsKept) {
  FakeEnv env;
  env.Set("AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==");
  auto config = ConfigFromEnvironment("", false, env.getenv());
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config->session_token, "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==");
}

// --- IsValidBucketName -------------------------------------------------------------

TEST(IsValidBucketNameTest, AcceptsS3Names) {
  EXPECT_TRUE(IsValidBucketName("photos"));
  EXPECT_TRUE(IsValidBucketName("abc"));
  EXPECT_TRUE(IsValidBucketName("my-photo-bucket"));
  EXPECT_TRUE(IsValidBucketName("photos.example.com"));
  EXPECT_TRUE(IsValidBucketName("2024-uploads"));
  EXPECT_TRUE(IsValidBucketName(std::string(63, 'a')));
}

TEST(IsValidBucketNameTest, RejectsWrongLengths) {
  EXPECT_FALSE(IsValidBucketName(""));
  EXPECT_FALSE(IsValidBucketName("ab"));
  EXPECT_FALSE(IsValidBucketName(std::string(64, 'a')));
}

TEST(IsValidBucketNameTest, RejectsOtherCharacters) {
  EXPECT_FALSE(IsValidBucketName("Photos"));
  EXPECT_FALSE(IsValidBucketName("my_photos"));
  EXPECT_FALSE(IsValidBucketName("my photos"));
  EXPECT_FALSE(IsValidBucketName("photos/pending"));
  EXPECT_FALSE(IsValidBucketName("photos?x=1"));
  EXPECT_FALSE(IsValidBucketName("evil.com:80@x"));
  EXPECT_FALSE(IsValidBucketName("caf\xC3\xA9"));
}

TEST(IsValidBucketNameTest, RejectsBadEdgesAndDoubleDots) {
  EXPECT_FALSE(IsValidBucketName("-photos"));
  EXPECT_FALSE(IsValidBucketName("photos-"));
  EXPECT_FALSE(IsValidBucketName(".photos"));
  EXPECT_FALSE(IsValidBucketName("photos."));
  EXPECT_FALSE(IsValidBucketName("my..photos"));
}

// --- TargetOf ----------------------------------------------------------------------

TEST(TargetOfTest, PathStyleObject) {
  const Config config = PathStyle("http", "127.0.0.1:7480");
  const Target target = TargetOf(config, "photos", "pending/trip/cat.jpg");
  EXPECT_EQ(target.host, "127.0.0.1:7480");
  EXPECT_EQ(target.path, "/photos/pending/trip/cat.jpg");
  EXPECT_EQ(target.url, "http://127.0.0.1:7480/photos/pending/trip/cat.jpg");
}

TEST(TargetOfTest, PathStyleBucketWithQuery) {
  const Config config = PathStyle("http", "127.0.0.1:7480");
  const Target target = TargetOf(config, "photos", "", "list-type=2&prefix=pending%2F");
  EXPECT_EQ(target.host, "127.0.0.1:7480");
  EXPECT_EQ(target.path, "/photos");
  EXPECT_EQ(target.url, "http://127.0.0.1:7480/photos?list-type=2&prefix=pending%2F");
}

TEST(TargetOfTest, VirtualHostObject) {
  Config config;
  config.host = "s3.eu-west-1.amazonaws.com";
  const Target target = TargetOf(config, "photos", "pending/cat.jpg");
  EXPECT_EQ(target.host, "photos.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(target.path, "/pending/cat.jpg");
  EXPECT_EQ(target.url, "https://photos.s3.eu-west-1.amazonaws.com/pending/cat.jpg");
}

TEST(TargetOfTest, VirtualHostBucketWithQuery) {
  Config config;
  config.host = "s3.us-east-1.amazonaws.com";
  const Target target = TargetOf(config, "photos", "", "list-type=2");
  EXPECT_EQ(target.host, "photos.s3.us-east-1.amazonaws.com");
  EXPECT_EQ(target.path, "/");
  EXPECT_EQ(target.url, "https://photos.s3.us-east-1.amazonaws.com/?list-type=2");
}

TEST(TargetOfTest, KeyIsPercentEncodedOnce) {
  const Config config = PathStyle("http", "127.0.0.1:7480");
  const Target target = TargetOf(config, "photos", "pending/a b+c%.jpg");
  EXPECT_EQ(target.path, "/photos/pending/a%20b%2Bc%25.jpg");
  EXPECT_EQ(target.url, "http://127.0.0.1:7480/photos/pending/a%20b%2Bc%25.jpg");
}

TEST(TargetOfTest, NonAsciiKeyBytesAreEncoded) {
  const Config config = PathStyle("http", "127.0.0.1:7480");
  const Target target =
      TargetOf(config, "photos", "pending/caf\xC3\xA9/\xE5\x86\x99\xE7\x9C\x9F.jpg");
  EXPECT_EQ(target.path, "/photos/pending/caf%C3%A9/%E5%86%99%E7%9C%9F.jpg");
}

TEST(TargetOfTest, UnreservedAndSlashAreKept) {
  Config config;
  config.host = "s3.us-east-1.amazonaws.com";
  const Target target = TargetOf(config, "photos", "a/b_c-d.e~f/");
  EXPECT_EQ(target.path, "/a/b_c-d.e~f/");
}

TEST(TargetOfTest, ReservedCharactersAreEncoded) {
  Config config;
  config.host = "s3.us-east-1.amazonaws.com";
  const Target target = TargetOf(config, "photos", "a?b#c&d=e;f:g@h,i");
  EXPECT_EQ(target.path, "/a%3Fb%23c%26d%3De%3Bf%3Ag%40h%2Ci");
}

}  // namespace
}  // namespace sluice::s3
