// Disk use tracks live data: after a queue is filled and drained, the real
// broker gives the space back while it keeps running, with no further writes.
#include <gtest/gtest.h>

#include <filesystem>

#include "client/client.h"
#include "tests/support/broker_process.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

uintmax_t DiskUse(const std::string& dir) {
  uintmax_t total = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) total += e.file_size(ec);
  }
  return total;
}

TEST(CompactionTest, DrainedQueueGivesItsSpaceBack) {
  testing::TempDir dir;
  const std::string endpoint = "ipc://" + dir.path() + "/broker.sock";
  const std::string data_dir = dir.path() + "/data";
  // Durability is not what this test is about; --fsync never keeps it quick.
  auto broker = testing::StartBroker(endpoint, data_dir, {"--fsync", "never"});
  Client client(endpoint);
  pb::CreateQueueRequest create;
  create.set_queue_name("q");
  ASSERT_TRUE(client.CreateQueue(create).ok());

  constexpr int kMessages = 60'000;
  const std::string body(1024, 'x');
  for (int sent = 0; sent < kMessages; sent += 10) {
    pb::SendMessageBatchRequest batch;
    batch.set_queue_name("q");
    for (int i = 0; i < 10; ++i) {
      auto* e = batch.add_entries();
      e->set_id("e" + std::to_string(i));
      e->set_body(body);
    }
    auto r = client.SendMessageBatch(batch);
    ASSERT_TRUE(r.ok() && r->successful_size() == 10) << r.status().ToString();
  }
  const uintmax_t full = DiskUse(data_dir);
  ASSERT_GT(full, uintmax_t{kMessages} * 1024);

  int drained = 0;
  while (drained < kMessages) {
    pb::ReceiveMessageRequest receive;
    receive.set_queue_name("q");
    receive.set_max_number_of_messages(10);
    auto got = client.ReceiveMessage(receive);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_GT(got->messages_size(), 0) << "after " << drained;
    pb::DeleteMessageBatchRequest del;
    del.set_queue_name("q");
    for (const auto& m : got->messages()) {
      auto* e = del.add_entries();
      e->set_id("d" + std::to_string(del.entries_size()));
      e->set_receipt_handle(m.receipt_handle());
    }
    auto r = client.DeleteMessageBatch(del);
    ASSERT_TRUE(r.ok() && r->failed_size() == 0);
    drained += got->messages_size();
  }
  // No more requests: the space must come back on its own.
  uintmax_t now = full;
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        now = DiskUse(data_dir);
        return now < full / 4;
      },
      seconds(30)))
      << "disk use " << now << " bytes after draining, " << full << " when full";
  EXPECT_TRUE(broker->Running());
}

}  // namespace
}  // namespace sluice
