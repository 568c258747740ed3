// GlobMatches: `*` and `?` over queue and action names.
#include "broker/auth/glob.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::auth {
namespace {

TEST(GlobTest, LiteralsMatchOnlyThemselves) {
  EXPECT_TRUE(GlobMatches("photos", "photos"));
  EXPECT_FALSE(GlobMatches("photos", "photos-dlq"));
  EXPECT_FALSE(GlobMatches("photos", "photo"));
  EXPECT_FALSE(GlobMatches("", "a"));
  EXPECT_TRUE(GlobMatches("", ""));
}

TEST(GlobTest, StarMatchesAnyRunIncludingNone) {
  EXPECT_TRUE(GlobMatches("*", ""));
  EXPECT_TRUE(GlobMatches("*", "anything.fifo"));
  EXPECT_TRUE(GlobMatches("photos*", "photos"));
  EXPECT_TRUE(GlobMatches("photos*", "photos-dlq"));
  EXPECT_TRUE(GlobMatches("*-dlq", "photos-dlq"));
  EXPECT_FALSE(GlobMatches("*-dlq", "photos-dlq2"));
  EXPECT_TRUE(GlobMatches("Get*", "GetQueueAttributes"));
  EXPECT_FALSE(GlobMatches("Get*", "SetQueueAttributes"));
  EXPECT_TRUE(GlobMatches("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(GlobMatches("a*b*c", "aXbYbZ"));
}

TEST(GlobTest, QuestionMarkMatchesExactlyOne) {
  EXPECT_TRUE(GlobMatches("q?", "q1"));
  EXPECT_FALSE(GlobMatches("q?", "q"));
  EXPECT_FALSE(GlobMatches("q?", "q12"));
}

TEST(GlobTest, ManyStarsOnALongNameStayFast) {
  // Exponential backtracking would not finish; the matcher is quadratic at
  // worst.
  const std::string name(80, 'a');
  EXPECT_FALSE(GlobMatches("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", name));
}

}  // namespace
}  // namespace sluice::auth
