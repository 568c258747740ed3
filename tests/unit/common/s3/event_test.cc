// S3 event notifications as AWS, MinIO and Ceph RGW send them, and the
// decoding of their keys.
#include "common/s3/event.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace sluice::s3 {
namespace {

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

}  // namespace
}  // namespace sluice::s3
