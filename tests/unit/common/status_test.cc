// Status and Result (common/status.h): the names the CLI prints, how
// internal failures are named, and a Result with an error of its own type.
#include "common/status.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice {
namespace {

TEST(StatusTest, ErrorCodeNamesAreSqsNames) {
  EXPECT_EQ(ErrorCodeName(StatusCode::kOk), "OK");
  EXPECT_EQ(ErrorCodeName(StatusCode::kInternalError), "InternalError");
  EXPECT_EQ(ErrorCodeName(StatusCode::kMalformedRequest), "MalformedRequest");
  EXPECT_EQ(ErrorCodeName(StatusCode::kQueueDoesNotExist), "QueueDoesNotExist");
  EXPECT_EQ(ErrorCodeName(StatusCode::kQueueNameExists), "QueueNameExists");
  EXPECT_EQ(ErrorCodeName(StatusCode::kInvalidParameterValue), "InvalidParameterValue");
  EXPECT_EQ(ErrorCodeName(StatusCode::kInvalidAttributeName), "InvalidAttributeName");
  EXPECT_EQ(ErrorCodeName(StatusCode::kInvalidAttributeValue), "InvalidAttributeValue");
  EXPECT_EQ(ErrorCodeName(StatusCode::kMissingParameter), "MissingParameter");
  EXPECT_EQ(ErrorCodeName(StatusCode::kMessageTooLong), "MessageTooLong");
  EXPECT_EQ(ErrorCodeName(StatusCode::kInvalidMessageContents), "InvalidMessageContents");
  EXPECT_EQ(ErrorCodeName(StatusCode::kEmptyBatchRequest), "EmptyBatchRequest");
  EXPECT_EQ(ErrorCodeName(StatusCode::kTooManyEntriesInBatchRequest),
            "TooManyEntriesInBatchRequest");
  EXPECT_EQ(ErrorCodeName(StatusCode::kBatchEntryIdsNotDistinct), "BatchEntryIdsNotDistinct");
  EXPECT_EQ(ErrorCodeName(StatusCode::kInvalidBatchEntryId), "InvalidBatchEntryId");
  EXPECT_EQ(ErrorCodeName(StatusCode::kBatchRequestTooLong), "BatchRequestTooLong");
  EXPECT_EQ(ErrorCodeName(StatusCode::kReceiptHandleIsInvalid), "ReceiptHandleIsInvalid");
  EXPECT_EQ(ErrorCodeName(StatusCode::kStaleReceiptHandle), "StaleReceiptHandle");
  EXPECT_EQ(ErrorCodeName(StatusCode::kMessageNotInflight), "MessageNotInflight");
  EXPECT_EQ(ErrorCodeName(StatusCode::kOverLimit), "OverLimit");
  EXPECT_EQ(ErrorCodeName(StatusCode::kResourceNotFound), "ResourceNotFoundException");
  EXPECT_EQ(ErrorCodeName(StatusCode::kUnsupportedOperation), "UnsupportedOperation");
  EXPECT_EQ(ErrorCodeName(StatusCode::kUnavailable), "BrokerUnavailable");
  EXPECT_EQ(ErrorCodeName(StatusCode::kStorageFull), "StorageFull");
}

constexpr StatusCode kInternalKinds[] = {StatusCode::kIOError, StatusCode::kNoSpace,
                                         StatusCode::kCorruption, StatusCode::kInvalidArgument,
                                         StatusCode::kNotFound};

TEST(StatusTest, InternalFailuresAreInternalErrorsToClientsAndTheirKindToLogs) {
  for (StatusCode code : kInternalKinds) {
    EXPECT_EQ(ErrorCodeName(code), "InternalError");
    EXPECT_FALSE(IsSenderFault(code)) << Status(code, "").ToString();
  }
  EXPECT_EQ(Status(StatusCode::kIOError, "reading x: EIO").ToString(), "IOError: reading x: EIO");
  EXPECT_EQ(Status(StatusCode::kNoSpace, "x").ToString(), "NoSpace: x");
  EXPECT_EQ(Status(StatusCode::kCorruption, "x at offset 0: bad").ToString(),
            "Corruption: x at offset 0: bad");
  EXPECT_EQ(Status(StatusCode::kInvalidArgument, "x").ToString(), "InvalidArgument: x");
  EXPECT_EQ(Status(StatusCode::kNotFound, "x").ToString(), "NotFound: x");
}

TEST(StatusTest, ToStringNamesSqsErrorsAsTheCliDoes) {
  EXPECT_EQ(Status().ToString(), "OK");
  EXPECT_EQ(Status(StatusCode::kQueueDoesNotExist, "no q").ToString(), "QueueDoesNotExist: no q");
  EXPECT_EQ(Status(StatusCode::kInternalError, "").ToString(), "InternalError");
}

TEST(StatusTest, TheBrokerAndTheClientsUnavailabilityAreNotTheSendersFault) {
  EXPECT_FALSE(IsSenderFault(StatusCode::kInternalError));
  EXPECT_FALSE(IsSenderFault(StatusCode::kUnavailable));
  EXPECT_TRUE(IsSenderFault(StatusCode::kInvalidParameterValue));
  EXPECT_TRUE(IsSenderFault(StatusCode::kStorageFull));
  EXPECT_TRUE(IsSenderFault(StatusCode::kReceiptHandleIsInvalid));
}

TEST(ResultTest, HoldsAValueOrAStatus) {
  Result<std::string> value("v");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, "v");
  EXPECT_TRUE(value.status().ok());
  Result<std::string> failed(Status(StatusCode::kNotFound, "gone"));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(failed.error().detail(), "gone");
}

TEST(ResultTest, HoldsAValueOrAnErrorOfAnyType) {
  // As a command's preparation: what it made, or the exit code to give up with.
  Result<std::string, int> value("v");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(value.value(), "v");
  Result<std::string, int> failed(3);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error(), 3);
}

}  // namespace
}  // namespace sluice
