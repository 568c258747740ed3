// The message subcommands: send-message, send-message-batch,
// receive-message, delete-message, delete-message-batch,
// change-message-visibility, change-message-visibility-batch.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "producer/cli/batch_entries.h"
#include "producer/cli/operation_command.h"
#include "producer/cli/sqs_commands.h"
#include "producer/cli/sqs_flags.h"

namespace sluice {
namespace {

// The flags of the batch commands: the queue and its --entries.
struct BatchFlags {
  QueueFlags queue;
  std::string entries;
};

void AddBatchFlags(CLI::App* cmd, BatchFlags* f) {
  AddQueueFlags(cmd, &f->queue);
  cmd->add_option("--entries", f->entries, "The entries as a JSON list (or file://PATH)")
      ->required();
}

// Fills a batch request: its queue, and its --entries read and parsed by
// `parse`.
template <typename Request, typename Entry>
Status FillBatch(const BatchFlags& f, Request* req,
                 Result<std::vector<Entry>> (*parse)(std::string_view)) {
  if (Status s = FillQueueName(f.queue, req); !s.ok()) return s;
  Result<std::string> text = FlagText("--entries", f.entries);
  if (!text.ok()) return text.status();
  Result<std::vector<Entry>> entries = parse(*text);
  if (!entries.ok()) return FlagError("--entries", entries.status());
  req->mutable_entries()->Assign(entries->begin(), entries->end());
  return Status::Ok();
}

}  // namespace

void AddSqsCommand(CommandSet& set, ops::SendMessage) {
  struct Flags {
    QueueFlags queue;
    std::string body;
    std::optional<int> delay_seconds;
    std::optional<std::string> attributes;
    std::string group_id;
    std::string deduplication_id;
  };
  AddOperationCommand<ops::SendMessage, Flags>(
      set,
      {.help = "Sends one message",
       .add_flags =
           [](CLI::App* cmd, Flags* f) {
             AddQueueFlags(cmd, &f->queue);
             cmd->add_option("--message-body", f->body, "The body (or file://PATH)")->required();
             AddOptionalFlag(cmd, "--delay-seconds", &f->delay_seconds,
                             "Seconds before the message can be received (default: the queue's)");
             AddOptionalFlag(
                 cmd, "--message-attributes", &f->attributes,
                 "{\"Name\": {\"DataType\": \"String\", \"StringValue\": \"...\"}, ...} "
                 "(or file://PATH)");
             cmd->add_option("--message-group-id", f->group_id, "FIFO queues: the message's group");
             cmd->add_option("--message-deduplication-id", f->deduplication_id,
                             "FIFO queues: sends with the same id within 5 minutes enqueue once");
           },
       .fill =
           [](const Flags& f, pb::SendMessageRequest* req) {
             if (Status s = FillQueueName(f.queue, req); !s.ok()) return s;
             Result<std::string> body = FlagText("--message-body", f.body);
             if (!body.ok()) return body.status();
             pb::SendMessageEntry* entry = req->mutable_entry();
             entry->set_body(std::move(*body));
             if (f.delay_seconds) entry->set_delay_seconds(*f.delay_seconds);
             if (f.attributes) {
               Result<std::string> text = FlagText("--message-attributes", *f.attributes);
               if (!text.ok()) return text.status();
               Status s = ParseMessageAttributes(*text, entry->mutable_message_attributes());
               if (!s.ok()) return FlagError("--message-attributes", s);
             }
             entry->set_message_group_id(f.group_id);
             entry->set_message_deduplication_id(f.deduplication_id);
             return Status::Ok();
           },
       .print = [](const auto& a) { return SendMessageJson(a.response); }});
}

void AddSqsCommand(CommandSet& set, ops::SendMessageBatch) {
  AddOperationCommand<ops::SendMessageBatch, BatchFlags>(
      set, {.help = "Sends up to 10 messages",
            .add_flags = &AddBatchFlags,
            .fill =
                [](const BatchFlags& f, pb::SendMessageBatchRequest* req) {
                  return FillBatch(f, req, &ParseSendEntries);
                },
            .print = [](const auto& a) { return SendMessageBatchJson(a.response); }});
}

void AddSqsCommand(CommandSet& set, ops::ReceiveMessage) {
  struct Flags {
    QueueFlags queue;
    int max_number_of_messages = 0;
    std::optional<int> visibility_timeout;
    std::optional<int> wait_time_seconds;
    std::vector<std::string> attribute_names;
    std::vector<std::string> system_attribute_names;
    std::vector<std::string> message_attribute_names;
    std::string receive_request_attempt_id;
  };
  AddOperationCommand<ops::ReceiveMessage, Flags>(
      set, {.help = "Receives up to 10 messages, waiting for them if asked",
            .add_flags =
                [](CLI::App* cmd, Flags* f) {
                  AddQueueFlags(cmd, &f->queue);
                  cmd->add_option("--max-number-of-messages", f->max_number_of_messages,
                                  "1 to 10 (default 1)")
                      ->check(NonNegativeInt());
                  AddOptionalFlag(cmd, "--visibility-timeout", &f->visibility_timeout,
                                  "Seconds the messages stay hidden (default: the queue's)");
                  AddOptionalFlag(cmd, "--wait-time-seconds", &f->wait_time_seconds,
                                  "Long poll: wait up to this long for a message, 0 to 20 "
                                  "(default: the queue's ReceiveMessageWaitTimeSeconds)");
                  cmd->add_option("--attribute-names", f->attribute_names,
                                  "System attributes to return (SentTimestamp, ..., or All)");
                  cmd->add_option("--message-system-attribute-names", f->system_attribute_names,
                                  "The same as --attribute-names");
                  cmd->add_option("--message-attribute-names", f->message_attribute_names,
                                  "Message attributes to return (names, prefix.*, or All)");
                  cmd->add_option("--receive-request-attempt-id", f->receive_request_attempt_id,
                                  "FIFO: a retry with the same id within 5 minutes gets the "
                                  "same messages");
                },
            .fill =
                [](const Flags& f, pb::ReceiveMessageRequest* req) {
                  if (Status s = FillQueueName(f.queue, req); !s.ok()) return s;
                  req->set_max_number_of_messages(static_cast<uint32_t>(f.max_number_of_messages));
                  if (f.visibility_timeout) req->set_visibility_timeout(*f.visibility_timeout);
                  if (f.wait_time_seconds) req->set_wait_time_seconds(*f.wait_time_seconds);
                  // aws-cli's two names for the system attributes to return.
                  for (const auto& [flag, values] :
                       {std::pair{"--attribute-names", &f.attribute_names},
                        std::pair{"--message-system-attribute-names", &f.system_attribute_names}}) {
                    Result<std::vector<std::string>> names = ParseStringList(*values);
                    if (!names.ok()) return FlagError(flag, names.status());
                    req->mutable_attribute_names()->Add(names->begin(), names->end());
                  }
                  Result<std::vector<std::string>> names =
                      ParseStringList(f.message_attribute_names);
                  if (!names.ok()) return FlagError("--message-attribute-names", names.status());
                  req->mutable_message_attribute_names()->Add(names->begin(), names->end());
                  req->set_receive_request_attempt_id(f.receive_request_attempt_id);
                  return Status::Ok();
                },
            .print = [](const auto& a) { return ReceiveMessageJson(a.response); }});
}

void AddSqsCommand(CommandSet& set, ops::DeleteMessage) {
  struct Flags {
    QueueFlags queue;
    std::string receipt_handle;
  };
  AddOperationCommand<ops::DeleteMessage, Flags>(
      set, {.help = "Deletes a received message",
            .add_flags =
                [](CLI::App* cmd, Flags* f) {
                  AddQueueFlags(cmd, &f->queue);
                  cmd->add_option("--receipt-handle", f->receipt_handle,
                                  "From the message's latest receive")
                      ->required();
                },
            .fill =
                [](const Flags& f, pb::DeleteMessageRequest* req) {
                  if (Status s = FillQueueName(f.queue, req); !s.ok()) return s;
                  req->set_receipt_handle(f.receipt_handle);
                  return Status::Ok();
                }});
}

void AddSqsCommand(CommandSet& set, ops::DeleteMessageBatch) {
  AddOperationCommand<ops::DeleteMessageBatch, BatchFlags>(
      set, {.help = "Deletes up to 10 received messages",
            .add_flags = &AddBatchFlags,
            .fill =
                [](const BatchFlags& f, pb::DeleteMessageBatchRequest* req) {
                  return FillBatch(f, req, &ParseDeleteEntries);
                },
            .print = [](const auto& a) { return DeleteMessageBatchJson(a.response); }});
}

void AddSqsCommand(CommandSet& set, ops::ChangeMessageVisibility) {
  struct Flags {
    QueueFlags queue;
    std::string receipt_handle;
    int visibility_timeout = 0;
  };
  AddOperationCommand<ops::ChangeMessageVisibility, Flags>(
      set, {.help = "Hides a received message for longer, or releases it (0)",
            .add_flags =
                [](CLI::App* cmd, Flags* f) {
                  AddQueueFlags(cmd, &f->queue);
                  cmd->add_option("--receipt-handle", f->receipt_handle,
                                  "From the message's latest receive")
                      ->required();
                  cmd->add_option("--visibility-timeout", f->visibility_timeout,
                                  "Seconds from now until the message is visible again")
                      ->required();
                },
            .fill =
                [](const Flags& f, pb::ChangeMessageVisibilityRequest* req) {
                  if (Status s = FillQueueName(f.queue, req); !s.ok()) return s;
                  req->set_receipt_handle(f.receipt_handle);
                  req->set_visibility_timeout(f.visibility_timeout);
                  return Status::Ok();
                }});
}

void AddSqsCommand(CommandSet& set, ops::ChangeMessageVisibilityBatch) {
  AddOperationCommand<ops::ChangeMessageVisibilityBatch, BatchFlags>(
      set, {.help = "Changes the visibility of up to 10 received messages",
            .add_flags = &AddBatchFlags,
            .fill =
                [](const BatchFlags& f, pb::ChangeMessageVisibilityBatchRequest* req) {
                  return FillBatch(f, req, &ParseVisibilityEntries);
                },
            .print = [](const auto& a) { return ChangeMessageVisibilityBatchJson(a.response); }});
}

}  // namespace sluice
