// The wire protocol's error codes (common/wire_error.h): every code of the
// protocol reads as one StatusCode and travels back as itself; internal
// failures travel as INTERNAL_ERROR.
#include "common/wire_error.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(WireErrorTest, EveryWireCodeRoundTrips) {
  const google::protobuf::EnumDescriptor* codes = pb::ErrorCode_descriptor();
  for (int i = 0; i < codes->value_count(); ++i) {
    const auto code = static_cast<pb::ErrorCode>(codes->value(i)->number());
    SCOPED_TRACE(codes->value(i)->name());
    EXPECT_EQ(ToWire(FromWire(code)), code);
  }
}

TEST(WireErrorTest, NamesAreThoseOfTheWireCodes) {
  EXPECT_EQ(FromWire(pb::OK), StatusCode::kOk);
  EXPECT_EQ(FromWire(pb::QUEUE_DOES_NOT_EXIST), StatusCode::kQueueDoesNotExist);
  EXPECT_EQ(FromWire(pb::RESOURCE_NOT_FOUND), StatusCode::kResourceNotFound);
  EXPECT_EQ(FromWire(pb::STORAGE_FULL), StatusCode::kStorageFull);
  EXPECT_EQ(ErrorCodeName(FromWire(pb::UNAVAILABLE)), "BrokerUnavailable");
}

TEST(WireErrorTest, InternalFailuresTravelAsInternalError) {
  for (StatusCode code :
       {StatusCode::kInternalError, StatusCode::kIOError, StatusCode::kNoSpace,
        StatusCode::kCorruption, StatusCode::kInvalidArgument, StatusCode::kNotFound}) {
    EXPECT_EQ(ToWire(code), pb::INTERNAL_ERROR) << Status(code, "").ToString();
  }
}

TEST(WireErrorTest, ACodeThisBuildDoesNotKnowReadsAsInternalError) {
  EXPECT_EQ(FromWire(static_cast<pb::ErrorCode>(999)), StatusCode::kInternalError);
}

}  // namespace
}  // namespace sluice
