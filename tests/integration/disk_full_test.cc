// A filling disk, for real. First the reserve: the broker keeps free space;
// the test sets the reserve just under what the filesystem has free, then
// fills the filesystem past it with a file of its own. Sends must be refused
// with StorageFull while receives and deletes go on, and accepted again once
// the file is removed. Then a filesystem filled to the last block by another
// process (a small tmpfs, mounted when the test may): the broker's reserved
// log segments keep receives and deletes going, through a kill -9 and a
// restart on the full disk. Nothing acknowledged is lost.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <set>

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
  EXPECT_EQ(refused.code(), StatusCode::kStorageFull) << refused.ToString();

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

// A tmpfs of `size` mounted on a fresh directory, unmounted at the end; not
// mounted() when this process may not mount (it is not root).
class SmallFilesystem {
 public:
  explicit SmallFilesystem(const std::string& size) {
    if (::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0) {
      mounted_ = true;
    } else {
      error_ = std::strerror(errno);
    }
  }
  ~SmallFilesystem() {
    if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  const std::string& path() const { return dir_.path(); }

 private:
  testing::TempDir dir_;
  bool mounted_ = false;
  std::string error_;
};

// Writes `path` until the filesystem has no block left; the bytes written.
uint64_t FillUp(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return 0;
  uint64_t written = 0;
  for (size_t chunk : {size_t{1} << 20, size_t{4096}, size_t{1}}) {
    const std::string data(chunk, 'f');
    while (::write(fd, data.data(), chunk) == static_cast<ssize_t>(chunk)) written += chunk;
  }
  ::close(fd);
  return written;
}

// Receives and deletes, one at a time (a write per request), until the queue
// is empty or `limit` are deleted; the bodies deleted, and the first failure.
Status DrainOneByOne(Client& client, std::multiset<std::string>* deleted, size_t limit = SIZE_MAX) {
  pb::ReceiveMessageRequest receive;
  receive.set_queue_name("q");
  receive.set_max_number_of_messages(1);
  while (deleted->size() < limit) {
    auto got = client.ReceiveMessage(receive);
    if (!got.ok()) return got.status();
    if (got->messages_size() == 0) return Status::Ok();
    pb::DeleteMessageRequest del;
    del.set_queue_name("q");
    del.set_receipt_handle(got->messages(0).receipt_handle());
    if (auto r = client.DeleteMessage(del); !r.ok()) return r.status();
    deleted->insert(got->messages(0).body());
  }
  return Status::Ok();
}

TEST(DiskFullTest, AFilesystemFilledByOthersStillTakesReceivesAndDeletesAcrossARestart) {
  SmallFilesystem fs("320m");
  if (!fs.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here: " << fs.error();
  testing::TempDir sockets;
  const std::string endpoint = "ipc://" + sockets.path() + "/broker.sock";
  const std::string data = fs.path() + "/data";
  const std::vector<std::string> args = {"--reserve-disk-mb", "16", "--fsync", "always"};
  auto broker = testing::StartBroker(endpoint, data, args);
  Client client(endpoint);
  pb::CreateQueueRequest create;
  create.set_queue_name("q");
  ASSERT_TRUE(client.CreateQueue(create).ok());
  std::multiset<std::string> sent;
  for (int i = 0; i < 400; ++i) {
    const std::string body = "m" + std::to_string(i) + std::string(2000, 'x');
    ASSERT_TRUE(client.SendMessage(SendReq(body)).ok());
    sent.insert(body);
  }

  const std::string filler = fs.path() + "/filler";
  ASSERT_GT(FillUp(filler), 0u);
  ASSERT_EQ(FreeBytes(fs.path()), 0u);
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        const std::string body = "late" + std::to_string(sent.size());
        auto r = client.SendMessage(SendReq(body));
        if (r.ok()) sent.insert(body);  // in the reserved segment: acknowledged, kept
        return r.status().code() == StatusCode::kStorageFull;
      },
      seconds(10)));

  // Half the messages, a write each, on the full disk.
  std::multiset<std::string> deleted;
  const Status drained = DrainOneByOne(client, &deleted, 200);
  ASSERT_TRUE(drained.ok()) << drained.ToString() << "\n" << broker->Stderr();
  ASSERT_EQ(deleted.size(), 200u);
  ASSERT_TRUE(broker->Running()) << broker->Stderr();

  // Killed and restarted on the full disk, it serves the rest.
  broker->Signal(SIGKILL);
  ASSERT_TRUE(broker->Wait(seconds(10)).has_value());
  broker = testing::StartBroker(endpoint, data, args);
  FillUp(filler + "2");  // whatever the restart gave back
  ASSERT_EQ(FreeBytes(fs.path()), 0u);
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        const std::string body = "restarted" + std::to_string(sent.size());
        auto r = client.SendMessage(SendReq(body));
        if (r.ok()) sent.insert(body);
        return r.status().code() == StatusCode::kStorageFull;
      },
      seconds(10)));
  ASSERT_TRUE(DrainOneByOne(client, &deleted).ok()) << broker->Stderr();
  EXPECT_EQ(deleted, sent);
  EXPECT_TRUE(broker->Running()) << broker->Stderr();

  // Once space returns, sends are taken again.
  std::filesystem::remove(filler);
  std::filesystem::remove(filler + "2");
  EXPECT_TRUE(
      testing::WaitFor([&] { return client.SendMessage(SendReq("after")).ok(); }, seconds(10)));
  broker->Signal(SIGTERM);
  broker->Wait(seconds(10));
}

}  // namespace
}  // namespace sluice
