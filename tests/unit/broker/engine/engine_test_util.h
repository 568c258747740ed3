// Shared fixture for the engine's unit tests: an Engine on a FakeClock, and
// short helpers for the requests most tests make. Helpers that must succeed
// record a test failure (EXPECT) when they do not, and return what they got so
// the test can go on asserting.
//
// The engine reports to its own MemoryJournal, or to a Storage on a
// temporary directory, committed as the server commits after each turn, so
// that a test also checks the durable path. A fixture derived from
// EveryJournalTest runs each of its tests (TEST_P) on both.
#ifndef SLUICE_TESTS_UNIT_BROKER_ENGINE_ENGINE_TEST_UTIL_H_
#define SLUICE_TESTS_UNIT_BROKER_ENGINE_ENGINE_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/engine/engine.h"
#include "broker/engine/queue_config.h"
#include "broker/storage/storage.h"
#include "common/clock.h"
#include "common/status.h"
#include "sluice.pb.h"

namespace sluice::testing {

// Passes when `s` carries exactly `code`; prints the status otherwise.
inline ::testing::AssertionResult HasCode(const Status& s, StatusCode code) {
  if (s.code() == code) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected " << ErrorCodeName(code) << ", got " << s.ToString();
}

#define EXPECT_OK(expr) EXPECT_TRUE(::sluice::testing::HasCode((expr), ::sluice::StatusCode::kOk))
#define ASSERT_OK(expr) ASSERT_TRUE(::sluice::testing::HasCode((expr), ::sluice::StatusCode::kOk))
#define EXPECT_CODE(expr, code) \
  EXPECT_TRUE(::sluice::testing::HasCode((expr), ::sluice::StatusCode::code))

using Attributes = std::map<std::string, std::string>;

inline pb::SendMessageEntry Entry(const std::string& body) {
  pb::SendMessageEntry e;
  e.set_body(body);
  return e;
}

inline pb::SendMessageEntry FifoEntry(const std::string& body, const std::string& group,
                                      const std::string& dedup_id = "") {
  pb::SendMessageEntry e = Entry(body);
  e.set_message_group_id(group);
  e.set_message_deduplication_id(dedup_id.empty() ? body : dedup_id);
  return e;
}

inline pb::MessageAttributeValue StringAttr(const std::string& value,
                                            const std::string& type = "String") {
  pb::MessageAttributeValue v;
  v.set_data_type(type);
  v.set_string_value(value);
  return v;
}

inline pb::MessageAttributeValue BinaryAttr(const std::string& value) {
  pb::MessageAttributeValue v;
  v.set_data_type("Binary");
  v.set_binary_value(value);
  return v;
}

inline std::string RedrivePolicyJson(const std::string& dlq, int max_receive_count) {
  return "{\"deadLetterTargetArn\":\"" + ArnFormat{}.Of(dlq) +
         "\",\"maxReceiveCount\":" + std::to_string(max_receive_count) + "}";
}

// The journal an EngineTest's engine reports to.
enum class JournalKind {
  kMemory,   // the engine's own
  kStorage,  // a Storage on a temporary directory of the fixture's
};

class EngineTest : public ::testing::Test {
 protected:
  static constexpr int kInflightLimit = 1000;

  explicit EngineTest(JournalKind journal = JournalKind::kMemory) : journal_(journal) {
    ResetEngine({.inflight_limit = kInflightLimit, .seed = 42});
  }
  ~EngineTest() override {
    engine_.reset();
    CloseStorage();
  }

  // Replaces the engine (and its queues) by a new one with `options`; when
  // they name no journal, the fixture's, made afresh.
  void ResetEngine(EngineOptions options) {
    engine_.reset();
    CloseStorage();
    if (options.journal == nullptr && journal_ == JournalKind::kStorage) {
      OpenStorage();
      options.journal = storage_journal_.get();
    }
    engine_ = std::make_unique<Engine>(&clock_, options);
    if (storage_journal_ != nullptr) {
      EXPECT_OK(storage_journal_->Recover(engine_.get()));
    }
  }

  // The engine. On the fixture's Storage, what the calls before this one
  // changed is committed first: as the server commits after each turn.
  Engine& engine() {
    if (storage_journal_ != nullptr && storage_journal_->HasPending()) {
      EXPECT_OK(storage_journal_->Commit());
    }
    return *engine_;
  }
  void AdvanceSeconds(int64_t s) { clock_.Advance(s * 1000); }
  void AdvanceMillis(Millis ms) { clock_.Advance(ms); }
  Millis Now() const { return clock_.Now(); }

  Status CreateQueue(const std::string& name, const Attributes& attributes = {}) {
    pb::CreateQueueRequest req;
    req.set_queue_name(name);
    req.mutable_attributes()->insert(attributes.begin(), attributes.end());
    pb::CreateQueueResponse resp;
    return engine().CreateQueue(req, &resp);
  }

  Status DeleteQueue(const std::string& name) {
    pb::DeleteQueueRequest req;
    req.set_queue_name(name);
    pb::DeleteQueueResponse resp;
    return engine().DeleteQueue(req, &resp);
  }

  Status GetQueueUrl(const std::string& name) {
    pb::GetQueueUrlRequest req;
    req.set_queue_name(name);
    pb::GetQueueUrlResponse resp;
    return engine().GetQueueUrl(req, &resp);
  }

  Status Purge(const std::string& queue) {
    pb::PurgeQueueRequest req;
    req.set_queue_name(queue);
    pb::PurgeQueueResponse resp;
    return engine().PurgeQueue(req, &resp);
  }

  Status SetAttributes(const std::string& name, const Attributes& attributes) {
    pb::SetQueueAttributesRequest req;
    req.set_queue_name(name);
    req.mutable_attributes()->insert(attributes.begin(), attributes.end());
    pb::SetQueueAttributesResponse resp;
    return engine().SetQueueAttributes(req, &resp);
  }

  // Every attribute of `name` (empty when the call fails).
  Attributes GetAttributes(const std::string& name) {
    pb::GetQueueAttributesRequest req;
    req.set_queue_name(name);
    pb::GetQueueAttributesResponse resp;
    EXPECT_OK(engine().GetQueueAttributes(req, &resp));
    return Attributes(resp.attributes().begin(), resp.attributes().end());
  }

  // A numeric attribute such as ApproximateNumberOfMessages; -1 when absent.
  int64_t Count(const std::string& queue, const std::string& attribute) {
    Attributes a = GetAttributes(queue);
    auto it = a.find(attribute);
    EXPECT_NE(it, a.end()) << attribute;
    return it == a.end() ? -1 : std::stoll(it->second);
  }
  int64_t Visible(const std::string& queue) { return Count(queue, "ApproximateNumberOfMessages"); }
  int64_t InFlight(const std::string& queue) {
    return Count(queue, "ApproximateNumberOfMessagesNotVisible");
  }
  int64_t Delayed(const std::string& queue) {
    return Count(queue, "ApproximateNumberOfMessagesDelayed");
  }

  Status SendEntry(const std::string& queue, const pb::SendMessageEntry& entry,
                   pb::SendMessageResult* result = nullptr) {
    pb::SendMessageRequest req;
    req.set_queue_name(queue);
    *req.mutable_entry() = entry;
    pb::SendMessageResponse resp;
    Status s = engine().SendMessage(req, &resp);
    if (result != nullptr) *result = resp.result();
    return s;
  }

  // Sends and expects success; returns the result (message id and so on).
  pb::SendMessageResult Send(const std::string& queue, const pb::SendMessageEntry& entry) {
    pb::SendMessageResult result;
    EXPECT_OK(SendEntry(queue, entry, &result));
    return result;
  }
  pb::SendMessageResult Send(const std::string& queue, const std::string& body) {
    return Send(queue, Entry(body));
  }

  Status SendBatch(const std::string& queue, const std::vector<pb::SendMessageEntry>& entries,
                   pb::SendMessageBatchResponse* resp) {
    pb::SendMessageBatchRequest req;
    req.set_queue_name(queue);
    for (const auto& e : entries) *req.add_entries() = e;
    return engine().SendMessageBatch(req, resp);
  }

  static pb::ReceiveMessageRequest ReceiveRequest(const std::string& queue, int max = 10) {
    pb::ReceiveMessageRequest req;
    req.set_queue_name(queue);
    req.set_max_number_of_messages(max);
    req.add_attribute_names("All");
    req.add_message_attribute_names("All");
    return req;
  }

  // Receives and expects success; the messages, possibly none.
  std::vector<pb::Message> Receive(const pb::ReceiveMessageRequest& req) {
    pb::ReceiveMessageResponse resp;
    EXPECT_OK(engine().ReceiveMessage(req, &resp));
    return {resp.messages().begin(), resp.messages().end()};
  }
  std::vector<pb::Message> Receive(const std::string& queue, int max = 10,
                                   std::optional<int> visibility_timeout = std::nullopt) {
    pb::ReceiveMessageRequest req = ReceiveRequest(queue, max);
    if (visibility_timeout) req.set_visibility_timeout(*visibility_timeout);
    return Receive(req);
  }
  // The bodies of the messages a receive returns, in order.
  std::vector<std::string> ReceiveBodies(const std::string& queue, int max = 10) {
    std::vector<std::string> bodies;
    for (const pb::Message& m : Receive(queue, max)) bodies.push_back(m.body());
    return bodies;
  }

  Status DeleteMessage(const std::string& queue, const std::string& handle) {
    pb::DeleteMessageRequest req;
    req.set_queue_name(queue);
    req.set_receipt_handle(handle);
    pb::DeleteMessageResponse resp;
    return engine().DeleteMessage(req, &resp);
  }

  Status ChangeVisibility(const std::string& queue, const std::string& handle, int timeout_s) {
    pb::ChangeMessageVisibilityRequest req;
    req.set_queue_name(queue);
    req.set_receipt_handle(handle);
    req.set_visibility_timeout(timeout_s);
    pb::ChangeMessageVisibilityResponse resp;
    return engine().ChangeMessageVisibility(req, &resp);
  }

  // Receives every visible message and deletes it; returns their bodies.
  std::vector<std::string> Drain(const std::string& queue) {
    std::vector<std::string> bodies;
    for (;;) {
      std::vector<pb::Message> got = Receive(queue);
      if (got.empty()) return bodies;
      for (const pb::Message& m : got) {
        bodies.push_back(m.body());
        EXPECT_OK(DeleteMessage(queue, m.receipt_handle()));
      }
    }
  }

  FakeClock clock_;
  std::unique_ptr<Engine> engine_;

 private:
  // Opens a Storage on a new, empty directory. Never fsyncs: what is
  // checked is what the engine reports, not the disk.
  void OpenStorage() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "sluice-engine-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      std::abort();  // a test on the memory journal instead would pass for the wrong reason
    }
    storage_dir_ = pattern;
    auto opened = Storage::Open(storage_dir_.string(), {.fsync = FsyncMode::kNever});
    if (!opened.ok()) {
      ADD_FAILURE() << opened.status().ToString();
      std::abort();
    }
    storage_journal_ = std::move(*opened);
  }
  void CloseStorage() {
    storage_journal_.reset();
    if (storage_dir_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(storage_dir_, ec);
    storage_dir_.clear();
  }

  const JournalKind journal_;
  std::filesystem::path storage_dir_;
  std::unique_ptr<Storage> storage_journal_;
};

// A fixture whose tests run on every journal: derive it from
// EveryJournalTest, write its tests with TEST_P and instantiate them with
//   INSTANTIATE_TEST_SUITE_P(Journals, Fixture, EveryJournal(), JournalParamName);
// The parameter comes first among the bases, so that it is there for
// EngineTest's constructor.
class EveryJournalTest : public ::testing::WithParamInterface<JournalKind>, public EngineTest {
 protected:
  EveryJournalTest() : EngineTest(GetParam()) {}
};

inline auto EveryJournal() {
  return ::testing::Values(JournalKind::kMemory, JournalKind::kStorage);
}

inline std::string JournalName(JournalKind journal) {
  return journal == JournalKind::kMemory ? "Memory" : "Storage";
}
inline std::string JournalParamName(const ::testing::TestParamInfo<JournalKind>& info) {
  return JournalName(info.param);
}

}  // namespace sluice::testing

#endif  // SLUICE_TESTS_UNIT_BROKER_ENGINE_ENGINE_TEST_UTIL_H_
