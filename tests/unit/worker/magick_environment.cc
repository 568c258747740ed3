// Every worker unit test runs under the worker's own ImageMagick set-up (its
// policy and limits, worker/magick_setup.h), made once for the whole binary.
#include <gtest/gtest.h>

#include "tests/support/test_images.h"
#include "worker/magick_setup.h"

namespace {

class WorkerMagickEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    sluice::testing::InitMagickForTests();
    ASSERT_EQ(sluice::worker::ConfigureImageMagick({}), "");
  }
};

::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new WorkerMagickEnvironment);

}  // namespace
