// Which listening addresses admit only this machine.
#include "broker/server/listen_address.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(ListenAddressTest, LoopbackAndLocalTransportsAreLocal) {
  EXPECT_TRUE(IsLocalZmqEndpoint("tcp://127.0.0.1:7400"));
  EXPECT_TRUE(IsLocalZmqEndpoint("tcp://127.3.2.1:7400"));
  EXPECT_TRUE(IsLocalZmqEndpoint("tcp://localhost:7400"));
  EXPECT_TRUE(IsLocalZmqEndpoint("tcp://[::1]:7400"));
  EXPECT_TRUE(IsLocalZmqEndpoint("ipc:///run/sluice.sock"));
  EXPECT_TRUE(IsLocalZmqEndpoint("inproc://broker"));
  EXPECT_TRUE(IsLocalHostPort("127.0.0.1:9324"));
  EXPECT_TRUE(IsLocalHostPort("[::1]:9324"));
}

TEST(ListenAddressTest, WildcardsInterfacesAndOtherAddressesAreNot) {
  EXPECT_FALSE(IsLocalZmqEndpoint("tcp://0.0.0.0:7400"));
  EXPECT_FALSE(IsLocalZmqEndpoint("tcp://*:7400"));
  EXPECT_FALSE(IsLocalZmqEndpoint("tcp://eth0:7400"));
  EXPECT_FALSE(IsLocalZmqEndpoint("tcp://10.0.0.5:7400"));
  EXPECT_FALSE(IsLocalZmqEndpoint("tcp://[::]:7400"));
  EXPECT_FALSE(IsLocalZmqEndpoint("tcp://127.0.0.1;10.0.0.5:7400"));
  EXPECT_FALSE(IsLocalZmqEndpoint("ws://127.0.0.1:7400"));
  EXPECT_FALSE(IsLocalHostPort("0.0.0.0:9324"));
  EXPECT_FALSE(IsLocalHostPort("[::]:9324"));
  EXPECT_FALSE(IsLocalHostPort("128.0.0.1:9324"));
  EXPECT_FALSE(IsLocalHostPort("9324"));
}

}  // namespace
}  // namespace sluice
