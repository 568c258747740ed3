// Input rules: message bodies, sizes, message attributes, batch requests and
// receive parameters. Each rejected input leaves the queue as it was.
#include <string>
#include <utility>
#include <vector>

#include "tests/unit/broker/engine/engine_test_util.h"

namespace sluice::testing {
namespace {

class ValidationTest : public EveryJournalTest {
 protected:
  ValidationTest() { EXPECT_OK(CreateQueue("q", {{"MaximumMessageSize", "1024"}})); }

  pb::SendMessageEntry WithAttribute(const std::string& name,
                                     const pb::MessageAttributeValue& value) {
    pb::SendMessageEntry e = Entry("m");
    (*e.mutable_message_attributes())[name] = value;
    return e;
  }

  static pb::SendMessageEntry BatchEntry(const std::string& id, const std::string& body) {
    pb::SendMessageEntry e = Entry(body);
    e.set_id(id);
    return e;
  }

  Status DeleteBatch(const std::vector<std::pair<std::string, std::string>>& entries,
                     pb::DeleteMessageBatchResponse* resp) {
    pb::DeleteMessageBatchRequest req;
    req.set_queue_name("q");
    for (const auto& [id, handle] : entries) {
      auto* e = req.add_entries();
      e->set_id(id);
      e->set_receipt_handle(handle);
    }
    return engine().DeleteMessageBatch(req, resp);
  }

  Status ChangeBatch(const std::vector<std::pair<std::string, std::string>>& entries, int timeout_s,
                     pb::ChangeMessageVisibilityBatchResponse* resp) {
    pb::ChangeMessageVisibilityBatchRequest req;
    req.set_queue_name("q");
    for (const auto& [id, handle] : entries) {
      auto* e = req.add_entries();
      e->set_id(id);
      e->set_receipt_handle(handle);
      e->set_visibility_timeout(timeout_s);
    }
    return engine().ChangeMessageVisibilityBatch(req, resp);
  }

  int64_t Stored() { return Visible("q") + InFlight("q") + Delayed("q"); }
};

INSTANTIATE_TEST_SUITE_P(Journals, ValidationTest, EveryJournal(), JournalParamName);

// --- Bodies -------------------------------------------------------------------

TEST_P(ValidationTest, EmptyBodyIsMissingParameter) {
  EXPECT_CODE(SendEntry("q", Entry("")), kMissingParameter);
  EXPECT_EQ(Stored(), 0);
}

TEST_P(ValidationTest, BodyWithDisallowedCharacterIsInvalidMessageContents) {
  const std::string bad[] = {
      std::string("nul\0", 4),  // U+0000
      "bell\x07",               // control characters other than tab, LF, CR
      "esc\x1b",
      "\xef\xbf\xbe",      // U+FFFE
      "\xef\xbf\xbf",      // U+FFFF
      "\xed\xa0\x80",      // a UTF-16 surrogate, U+D800
      "\xf4\x90\x80\x80",  // beyond U+10FFFF
  };
  for (const std::string& body : bad) {
    EXPECT_CODE(SendEntry("q", Entry(body)), kInvalidMessageContents) << body;
  }
  EXPECT_EQ(Stored(), 0);
}

TEST_P(ValidationTest, DisallowedByteAnywhereInALongPrintableBodyIsFound) {
  // Bodies are checked eight bytes at a time while they are printable ASCII;
  // a bad byte at any offset, in any lane of a word, must still be caught.
  for (const char bad : {'\0', '\x07', '\x1f', '\x80', '\xff'}) {
    for (size_t at = 0; at < 40; ++at) {
      std::string body(40, 'a');
      body[at] = bad;
      EXPECT_CODE(SendEntry("q", Entry(body)), kInvalidMessageContents)
          << "byte " << static_cast<int>(static_cast<unsigned char>(bad)) << " at " << at;
    }
  }
  EXPECT_OK(SendEntry("q", Entry(std::string(39, '~') + "\t")));
  EXPECT_EQ(Stored(), 1);
}

TEST_P(ValidationTest, BodyThatIsNotUtf8IsInvalidMessageContents) {
  const std::string bad[] = {
      "\xff",              // never in UTF-8
      "\xc3",              // truncated sequence
      "a\x80z",            // stray continuation byte
      "\xc0\xaf",          // overlong encoding of '/'
      "\xe0\x80\xaf",      // overlong, three bytes
      "\xf8\x88\x80\x80",  // five-byte lead
  };
  for (const std::string& body : bad) {
    EXPECT_CODE(SendEntry("q", Entry(body)), kInvalidMessageContents) << body;
  }
  EXPECT_EQ(Stored(), 0);
}

TEST_P(ValidationTest, BodyAtTheBoundsOfTheAllowedRangesIsAccepted) {
  for (const std::string& body :
       {std::string("\t\n\r "), std::string("\xed\x9f\xbf"), std::string("\xee\x80\x80"),
        std::string("\xef\xbf\xbd"), std::string("\xf0\x90\x80\x80"),
        std::string("\xf4\x8f\xbf\xbf")}) {
    EXPECT_OK(SendEntry("q", Entry(body))) << body;
  }
  EXPECT_EQ(Stored(), 6);
}

// --- Size cap -----------------------------------------------------------------

TEST_P(ValidationTest, BodyUpToMaximumMessageSizeIsAccepted) {
  EXPECT_OK(SendEntry("q", Entry(std::string(1024, 'x'))));
  EXPECT_CODE(SendEntry("q", Entry(std::string(1025, 'x'))), kMessageTooLong);
  EXPECT_EQ(Stored(), 1);
}

TEST_P(ValidationTest, MessageAttributesCountTowardsTheSizeCap) {
  // name (4) + type (6) + value (10) = 20 bytes of attribute.
  pb::SendMessageEntry fits = WithAttribute("name", StringAttr(std::string(10, 'v')));
  fits.set_body(std::string(1004, 'x'));
  EXPECT_OK(SendEntry("q", fits));

  pb::SendMessageEntry too_long = fits;
  too_long.set_body(std::string(1005, 'x'));
  EXPECT_CODE(SendEntry("q", too_long), kMessageTooLong);

  pb::SendMessageEntry binary = WithAttribute("bin", BinaryAttr(std::string(20, '\0')));
  binary.set_body(std::string(1024 - 3 - 6 - 20 + 1, 'x'));
  EXPECT_CODE(SendEntry("q", binary), kMessageTooLong);
  EXPECT_EQ(Stored(), 1);
}

TEST_P(ValidationTest, SizeCapFollowsTheQueueAttribute) {
  ASSERT_OK(SetAttributes("q", {{"MaximumMessageSize", "2048"}}));
  EXPECT_OK(SendEntry("q", Entry(std::string(2048, 'x'))));
  EXPECT_CODE(SendEntry("q", Entry(std::string(2049, 'x'))), kMessageTooLong);
}

TEST_P(ValidationTest, DefaultCapIsOneMebibyte) {
  ASSERT_OK(CreateQueue("big"));
  EXPECT_OK(SendEntry("big", Entry(std::string(1 << 20, 'x'))));
  EXPECT_CODE(SendEntry("big", Entry(std::string((1 << 20) + 1, 'x'))), kMessageTooLong);
}

// --- Message attributes ---------------------------------------------------------

TEST_P(ValidationTest, TenMessageAttributesAreAcceptedElevenAreNot) {
  pb::SendMessageEntry e = Entry("m");
  for (int i = 0; i < 10; ++i) {
    (*e.mutable_message_attributes())["a" + std::to_string(i)] = StringAttr("v");
  }
  EXPECT_OK(SendEntry("q", e));
  (*e.mutable_message_attributes())["a10"] = StringAttr("v");
  EXPECT_CODE(SendEntry("q", e), kInvalidParameterValue);
  EXPECT_EQ(Stored(), 1);
}

TEST_P(ValidationTest, AttributeNamesFollowSqsRules) {
  for (const std::string& name :
       {std::string(""), std::string("has space"), std::string(".lead"), std::string("trail."),
        std::string("two..dots"), std::string("AWS.reserved"), std::string("Amazon.reserved"),
        std::string("caf\xc3\xa9"), std::string(257, 'n')}) {
    EXPECT_CODE(SendEntry("q", WithAttribute(name, StringAttr("v"))), kInvalidParameterValue)
        << name;
  }
  for (const std::string& name : {std::string("a.b-c_D9"), std::string(256, 'n')}) {
    EXPECT_OK(SendEntry("q", WithAttribute(name, StringAttr("v")))) << name;
  }
  EXPECT_EQ(Stored(), 2);
}

TEST_P(ValidationTest, AttributeTypeMustBeStringNumberOrBinary) {
  EXPECT_CODE(SendEntry("q", WithAttribute("a", StringAttr("v", "Text"))), kInvalidParameterValue);
  EXPECT_CODE(SendEntry("q", WithAttribute("a", StringAttr("v", ""))), kInvalidParameterValue);
  EXPECT_CODE(SendEntry("q", WithAttribute("a", StringAttr("v", "string"))),
              kInvalidParameterValue);
  EXPECT_OK(SendEntry("q", WithAttribute("a", StringAttr("v", "String.custom"))));
  EXPECT_EQ(Stored(), 1);
}

TEST_P(ValidationTest, AttributeValueMustMatchItsType) {
  // String and Number need a non-empty string value and no binary one.
  EXPECT_CODE(SendEntry("q", WithAttribute("a", StringAttr(""))), kInvalidParameterValue);
  pb::MessageAttributeValue both = StringAttr("v");
  both.set_binary_value("b");
  EXPECT_CODE(SendEntry("q", WithAttribute("a", both)), kInvalidParameterValue);
  // Binary needs a binary value only.
  EXPECT_CODE(SendEntry("q", WithAttribute("a", BinaryAttr(""))), kInvalidParameterValue);
  pb::MessageAttributeValue binary_with_string = BinaryAttr("b");
  binary_with_string.set_string_value("s");
  EXPECT_CODE(SendEntry("q", WithAttribute("a", binary_with_string)), kInvalidParameterValue);
  EXPECT_EQ(Stored(), 0);
}

TEST_P(ValidationTest, NumberAttributeMustHoldANumber) {
  for (const char* bad : {"abc", "1.2.3", "12abc", "NaN", "inf", "0x1A", "--1", " 5", "5 ", " "}) {
    EXPECT_CODE(SendEntry("q", WithAttribute("n", StringAttr(bad, "Number"))),
                kInvalidParameterValue)
        << bad;
  }
  for (const char* good : {"0", "-17", "3.25", "1e10", "+4"}) {
    EXPECT_OK(SendEntry("q", WithAttribute("n", StringAttr(good, "Number")))) << good;
  }
  EXPECT_EQ(Stored(), 5);
}

TEST_P(ValidationTest, StringAttributeMayNotHoldDisallowedCharacters) {
  EXPECT_CODE(SendEntry("q", WithAttribute("s", StringAttr("bad\x01"))), kInvalidParameterValue);
  EXPECT_OK(SendEntry("q", WithAttribute("b", BinaryAttr("any\x01\xff"))));
}

// --- SendMessageBatch -------------------------------------------------------------

TEST_P(ValidationTest, SendBatchSendsEveryEntryAndAnswersPerId) {
  pb::SendMessageBatchResponse resp;
  ASSERT_OK(SendBatch("q", {BatchEntry("one", "a"), BatchEntry("two", "b")}, &resp));
  ASSERT_EQ(resp.successful_size(), 2);
  EXPECT_EQ(resp.failed_size(), 0);
  EXPECT_EQ(resp.successful(0).id(), "one");
  EXPECT_EQ(resp.successful(1).id(), "two");
  EXPECT_NE(resp.successful(0).message_id(), resp.successful(1).message_id());
  EXPECT_EQ(resp.successful(0).md5_of_message_body(), "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(ReceiveBodies("q"), (std::vector<std::string>{"a", "b"}));
}

TEST_P(ValidationTest, EmptySendBatchIsEmptyBatchRequest) {
  pb::SendMessageBatchResponse resp;
  EXPECT_CODE(SendBatch("q", {}, &resp), kEmptyBatchRequest);
}

TEST_P(ValidationTest, SendBatchOfElevenIsTooManyEntries) {
  std::vector<pb::SendMessageEntry> entries;
  for (int i = 0; i < 10; ++i) entries.push_back(BatchEntry("e" + std::to_string(i), "m"));
  pb::SendMessageBatchResponse ok;
  EXPECT_OK(SendBatch("q", entries, &ok));
  EXPECT_EQ(ok.successful_size(), 10);
  entries.push_back(BatchEntry("e10", "m"));
  pb::SendMessageBatchResponse resp;
  EXPECT_CODE(SendBatch("q", entries, &resp), kTooManyEntriesInBatchRequest);
  EXPECT_EQ(Stored(), 10);
}

TEST_P(ValidationTest, SendBatchWithRepeatedIdIsIdsNotDistinct) {
  pb::SendMessageBatchResponse resp;
  EXPECT_CODE(
      SendBatch("q", {BatchEntry("x", "a"), BatchEntry("y", "b"), BatchEntry("x", "c")}, &resp),
      kBatchEntryIdsNotDistinct);
  EXPECT_EQ(Stored(), 0);
}

TEST_P(ValidationTest, SendBatchWithInvalidIdIsInvalidBatchEntryId) {
  for (const std::string& id :
       {std::string(""), std::string("has space"), std::string("dot.ted"), std::string(81, 'i')}) {
    pb::SendMessageBatchResponse resp;
    EXPECT_CODE(SendBatch("q", {BatchEntry("fine", "a"), BatchEntry(id, "b")}, &resp),
                kInvalidBatchEntryId)
        << id;
  }
  pb::SendMessageBatchResponse resp;
  EXPECT_OK(SendBatch("q", {BatchEntry(std::string(80, 'i'), "a")}, &resp));
  EXPECT_EQ(Stored(), 1);
}

TEST_P(ValidationTest, SendBatchOverTheSizeCapInTotalIsBatchRequestTooLong) {
  pb::SendMessageBatchResponse resp;
  EXPECT_CODE(
      SendBatch("q",
                {BatchEntry("a", std::string(600, 'x')), BatchEntry("b", std::string(425, 'x'))},
                &resp),
      kBatchRequestTooLong);
  EXPECT_EQ(Stored(), 0);
  pb::SendMessageBatchResponse fits;
  EXPECT_OK(SendBatch(
      "q", {BatchEntry("a", std::string(600, 'x')), BatchEntry("b", std::string(424, 'x'))},
      &fits));
  EXPECT_EQ(fits.successful_size(), 2);
}

TEST_P(ValidationTest, SendBatchReportsFailedEntriesAndSendsTheRest) {
  pb::SendMessageEntry delayed = BatchEntry("delayed", "d");
  delayed.set_delay_seconds(1000);
  pb::SendMessageBatchResponse resp;
  ASSERT_OK(SendBatch("q",
                      {BatchEntry("ok1", "a"), BatchEntry("empty", ""), BatchEntry("ok2", "b"),
                       BatchEntry("bad", "\x01"), delayed},
                      &resp));
  ASSERT_EQ(resp.successful_size(), 2);
  EXPECT_EQ(resp.successful(0).id(), "ok1");
  EXPECT_EQ(resp.successful(1).id(), "ok2");
  ASSERT_EQ(resp.failed_size(), 3);
  EXPECT_EQ(resp.failed(0).id(), "empty");
  EXPECT_EQ(resp.failed(0).code(), pb::MISSING_PARAMETER);
  EXPECT_TRUE(resp.failed(0).sender_fault());
  EXPECT_FALSE(resp.failed(0).detail().empty());
  EXPECT_EQ(resp.failed(1).id(), "bad");
  EXPECT_EQ(resp.failed(1).code(), pb::INVALID_MESSAGE_CONTENTS);
  EXPECT_EQ(resp.failed(2).id(), "delayed");
  EXPECT_EQ(resp.failed(2).code(), pb::INVALID_PARAMETER_VALUE);
  EXPECT_EQ(ReceiveBodies("q"), (std::vector<std::string>{"a", "b"}));
}

// --- DeleteMessageBatch and ChangeMessageVisibilityBatch ------------------------

TEST_P(ValidationTest, DeleteBatchRulesForTheWholeBatch) {
  pb::DeleteMessageBatchResponse resp;
  EXPECT_CODE(DeleteBatch({}, &resp), kEmptyBatchRequest);
  std::vector<std::pair<std::string, std::string>> eleven;
  for (int i = 0; i < 11; ++i) eleven.emplace_back("e" + std::to_string(i), "h");
  EXPECT_CODE(DeleteBatch(eleven, &resp), kTooManyEntriesInBatchRequest);
  EXPECT_CODE(DeleteBatch({{"a", "h"}, {"a", "h"}}, &resp), kBatchEntryIdsNotDistinct);
  EXPECT_CODE(DeleteBatch({{"a b", "h"}}, &resp), kInvalidBatchEntryId);
}

TEST_P(ValidationTest, DeleteBatchAnswersPerEntry) {
  Send("q", "a");
  Send("q", "b");
  Send("q", "c");
  std::vector<pb::Message> first = Receive("q", 3, 0);
  ASSERT_EQ(first.size(), 3u);
  std::vector<pb::Message> got = Receive("q", 3);  // c's first handle is now stale
  ASSERT_EQ(got.size(), 3u);

  pb::DeleteMessageBatchResponse resp;
  ASSERT_OK(DeleteBatch({{"a", got[0].receipt_handle()},
                         {"junk", "not-a-handle"},
                         {"stale", first[2].receipt_handle()},
                         {"b", got[1].receipt_handle()}},
                        &resp));
  ASSERT_EQ(resp.successful_size(), 2);
  EXPECT_EQ(resp.successful(0).id(), "a");
  EXPECT_EQ(resp.successful(1).id(), "b");
  ASSERT_EQ(resp.failed_size(), 2);
  EXPECT_EQ(resp.failed(0).id(), "junk");
  EXPECT_EQ(resp.failed(0).code(), pb::RECEIPT_HANDLE_IS_INVALID);
  EXPECT_TRUE(resp.failed(0).sender_fault());
  EXPECT_EQ(resp.failed(1).id(), "stale");
  EXPECT_EQ(resp.failed(1).code(), pb::STALE_RECEIPT_HANDLE);
  EXPECT_EQ(InFlight("q"), 1);  // c is still there
}

TEST_P(ValidationTest, ChangeVisibilityBatchRulesForTheWholeBatch) {
  pb::ChangeMessageVisibilityBatchResponse resp;
  EXPECT_CODE(ChangeBatch({}, 0, &resp), kEmptyBatchRequest);
  std::vector<std::pair<std::string, std::string>> eleven;
  for (int i = 0; i < 11; ++i) eleven.emplace_back("e" + std::to_string(i), "h");
  EXPECT_CODE(ChangeBatch(eleven, 0, &resp), kTooManyEntriesInBatchRequest);
  EXPECT_CODE(ChangeBatch({{"a", "h"}, {"a", "h"}}, 0, &resp), kBatchEntryIdsNotDistinct);
  EXPECT_CODE(ChangeBatch({{std::string(81, 'i'), "h"}}, 0, &resp), kInvalidBatchEntryId);
}

TEST_P(ValidationTest, ChangeVisibilityBatchAnswersPerEntry) {
  Send("q", "a");
  Send("q", "b");
  std::vector<pb::Message> got = Receive("q", 2);
  ASSERT_EQ(got.size(), 2u);
  ASSERT_OK(DeleteMessage("q", got[1].receipt_handle()));

  pb::ChangeMessageVisibilityBatchResponse resp;
  ASSERT_OK(ChangeBatch({{"a", got[0].receipt_handle()}, {"junk", "x"}}, 0, &resp));
  ASSERT_EQ(resp.successful_size(), 1);
  EXPECT_EQ(resp.successful(0).id(), "a");
  ASSERT_EQ(resp.failed_size(), 1);
  EXPECT_EQ(resp.failed(0).id(), "junk");
  EXPECT_EQ(resp.failed(0).code(), pb::RECEIPT_HANDLE_IS_INVALID);
  EXPECT_EQ(ReceiveBodies("q"), (std::vector<std::string>{"a"}));
}

TEST_P(ValidationTest, ChangeVisibilityBatchOutOfRangeTimeoutFailsPerEntry) {
  Send("q", "a");
  std::vector<pb::Message> got = Receive("q");
  ASSERT_EQ(got.size(), 1u);
  pb::ChangeMessageVisibilityBatchResponse resp;
  ASSERT_OK(ChangeBatch({{"a", got[0].receipt_handle()}}, 43'201, &resp));
  EXPECT_EQ(resp.successful_size(), 0);
  ASSERT_EQ(resp.failed_size(), 1);
  EXPECT_EQ(resp.failed(0).code(), pb::INVALID_PARAMETER_VALUE);
}

// --- ReceiveMessage parameters ---------------------------------------------------

TEST_P(ValidationTest, MaxNumberOfMessagesAboveTenIsInvalid) {
  Send("q", "m");
  for (uint32_t max : {11u, 1000u, 0x7fffffffu, 0x80000000u, 0xffffffffu}) {
    pb::ReceiveMessageRequest req = ReceiveRequest("q");
    req.set_max_number_of_messages(max);
    pb::ReceiveMessageResponse resp;
    EXPECT_CODE(engine().ReceiveMessage(req, &resp), kInvalidParameterValue) << max;
  }
  EXPECT_EQ(Visible("q"), 1);
}

TEST_P(ValidationTest, ReceiveVisibilityTimeoutOutOfRangeIsInvalid) {
  Send("q", "m");
  for (int timeout : {-1, 43'201}) {
    pb::ReceiveMessageRequest req = ReceiveRequest("q");
    req.set_visibility_timeout(timeout);
    pb::ReceiveMessageResponse resp;
    EXPECT_CODE(engine().ReceiveMessage(req, &resp), kInvalidParameterValue) << timeout;
  }
  EXPECT_EQ(Visible("q"), 1);
  EXPECT_EQ(Receive("q", 1, 43'200).size(), 1u);
}

TEST_P(ValidationTest, WaitTimeSecondsOutOfRangeIsInvalid) {
  Send("q", "m");
  for (int wait : {-1, 21}) {
    pb::ReceiveMessageRequest req = ReceiveRequest("q");
    req.set_wait_time_seconds(wait);
    pb::ReceiveMessageResponse resp;
    EXPECT_CODE(engine().ReceiveMessage(req, &resp), kInvalidParameterValue) << wait;
    EXPECT_CODE(engine().ReceiveWaitMs(req).status(), kInvalidParameterValue) << wait;
  }
  EXPECT_EQ(Visible("q"), 1);
}

}  // namespace
}  // namespace sluice::testing
