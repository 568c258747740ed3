// A filling disk, for real: the broker keeps a reserve of free space; the test
// sets the reserve just under what the filesystem has free, then fills the
// filesystem past it with a file of its own. Sends must be refused with
// StorageFull while receives and deletes go on, and accepted again once the
// file is removed. Nothing acknowledged is lost.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <filesystem>

#include "client/client.h"
#include "tests/support/broker_process.h"

namespace sluice {
namespace {

using std::chrono::seconds;

constexpr uint64_t kMiB = 1 << 20;
// Headroom above the reserve at the start, and the size of the filler that
// takes the disk below it: wide margins, so other writers on the machine do
// not flip the state by accident.
constexpr uint64_t kHeadroom = 300 * kMiB;
constexpr uint64_t kFiller = 900 * kMiB;

uint64_t FreeBytes(const std::string& path) {
  struct statvfs fs;
  if (::statvfs(path.c_str(), &fs) != 0) return 0;
  return static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
}

pb::SendMessageRequest SendReq(const std::string& body) {
  pb::SendMessageRequest req;
  req.set_queue_name("q");
  req.mutable_entry()->set_body(body);
  return req;
}

TEST(DiskFullTest, SendsAreRefusedBelowTheReserveWhileReceivesAndDeletesGoOn) {
  testing::TempDir dir;
  const uint64_t free_now = FreeBytes(dir.path());
  ASSERT_GT(free_now, kHeadroom + kFiller + 512 * kMiB) << "not enough disk for this test";
  const uint64_t reserve_mb = (free_now - kHeadroom) / kMiB;
  const std::string endpoint = "ipc://" + dir.path() + "/broker.sock";
  auto broker = testing::StartBroker(endpoint, dir.path() + "/data",
                                     {"--reserve-disk-mb", std::to_string(reserve_mb)});
  Client client(endpoint);
  pb::CreateQueueRequest create;
  create.set_queue_name("q");
  ASSERT_TRUE(client.CreateQueue(create).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client.SendMessage(SendReq("before")).ok());

  const std::string filler = dir.path() + "/filler";
  {
    const int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::posix_fallocate(fd, 0, static_cast<off_t>(kFiller)), 0);
    ::close(fd);
  }
  Status refused;
  int accepted_before_refusal = 0;  // the broker may not have looked at the disk yet
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto r = client.SendMessage(SendReq("before"));
        refused = r.status();
        if (r.ok()) ++accepted_before_refusal;
        return !r.ok();
      },
      seconds(10)));
  EXPECT_EQ(refused.code(), pb::STORAGE_FULL) << refused.ToString();

  // What the broker holds can still be received and deleted.
  pb::ReceiveMessageRequest receive;
  receive.set_queue_name("q");
  receive.set_max_number_of_messages(10);
  auto got = client.ReceiveMessage(receive);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->messages_size(), std::min(10, 3 + accepted_before_refusal));
  for (const auto& m : got->messages()) EXPECT_EQ(m.body(), "before");
  pb::DeleteMessageRequest del;
  del.set_queue_name("q");
  del.set_receipt_handle(got->messages(0).receipt_handle());
  EXPECT_TRUE(client.DeleteMessage(del).ok());

  std::filesystem::remove(filler);
  EXPECT_TRUE(
      testing::WaitFor([&] { return client.SendMessage(SendReq("after")).ok(); }, seconds(10)));
  EXPECT_TRUE(broker->Running());
  EXPECT_NE(broker->Stderr().find("event=disk_low"), std::string::npos) << broker->Stderr();
}

}  // namespace
}  // namespace sluice
