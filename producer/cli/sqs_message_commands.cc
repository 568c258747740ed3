// The message subcommands: send-message, send-message-batch,
// receive-message, delete-message, delete-message-batch,
// change-message-visibility, change-message-visibility-batch.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/client.h"
#include "producer/cli/batch_entries.h"
#include "producer/cli/sqs_commands.h"
#include "producer/cli/sqs_flags.h"

namespace sluice {
namespace {

constexpr const char* kEntriesHelp = "The entries as a JSON list (or file://PATH)";

// The --entries of a batch command, read and parsed by `parse`.
template <typename Entry>
Result<std::vector<Entry>> FlagEntries(const std::string& value,
                                       Result<std::vector<Entry>> (*parse)(std::string_view)) {
  Result<std::string> text = FlagText("--entries", value);
  if (!text.ok()) return text.status();
  Result<std::vector<Entry>> entries = parse(*text);
  if (!entries.ok()) {
    return Status(entries.status().code(), "--entries: " + entries.status().detail());
  }
  return entries;
}

void AddSendMessage(CommandSet& set) {
  struct Flags {
    QueueFlags queue;
    std::string body;
    std::optional<int> delay_seconds;
    std::optional<std::string> attributes;
    std::string group_id;
    std::string deduplication_id;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = set.Add("send-message", "Sends one message", [f](const CommandContext& ctx) {
    Result<std::string> name = QueueNameOf(f->queue);
    if (!name.ok()) return ReportUsageError(name.status().detail());
    Result<std::string> body = FlagText("--message-body", f->body);
    if (!body.ok()) return ReportUsageError(body.status().detail());
    pb::SendMessageRequest req;
    req.set_queue_name(*name);
    pb::SendMessageEntry* entry = req.mutable_entry();
    entry->set_body(std::move(*body));
    if (f->delay_seconds) entry->set_delay_seconds(*f->delay_seconds);
    if (f->attributes) {
      Result<std::string> text = FlagText("--message-attributes", *f->attributes);
      if (!text.ok()) return ReportUsageError(text.status().detail());
      Status s = ParseMessageAttributes(*text, entry->mutable_message_attributes());
      if (!s.ok()) return ReportUsageError("--message-attributes: " + s.detail());
    }
    entry->set_message_group_id(f->group_id);
    entry->set_message_deduplication_id(f->deduplication_id);
    Client client(ctx.endpoint, ctx.client_options);
    return Finish("SendMessage", client.SendMessage(req), &SendMessageJson);
  });
  AddQueueFlags(cmd, &f->queue);
  cmd->add_option("--message-body", f->body, "The body (or file://PATH)")->required();
  AddOptionalFlag(cmd, "--delay-seconds", &f->delay_seconds,
                  "Seconds before the message can be received (default: the queue's)");
  AddOptionalFlag(cmd, "--message-attributes", &f->attributes,
                  "{\"Name\": {\"DataType\": \"String\", \"StringValue\": \"...\"}, ...} "
                  "(or file://PATH)");
  cmd->add_option("--message-group-id", f->group_id, "FIFO queues: the message's group");
  cmd->add_option("--message-deduplication-id", f->deduplication_id,
                  "FIFO queues: sends with the same id within 5 minutes enqueue once");
}

void AddSendMessageBatch(CommandSet& set) {
  struct Flags {
    QueueFlags queue;
    std::string entries;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd =
      set.Add("send-message-batch", "Sends up to 10 messages", [f](const CommandContext& ctx) {
        Result<std::string> name = QueueNameOf(f->queue);
        if (!name.ok()) return ReportUsageError(name.status().detail());
        Result<std::vector<pb::SendMessageEntry>> entries =
            FlagEntries(f->entries, &ParseSendEntries);
        if (!entries.ok()) return ReportUsageError(entries.status().detail());
        pb::SendMessageBatchRequest req;
        req.set_queue_name(*name);
        req.mutable_entries()->Assign(entries->begin(), entries->end());
        Client client(ctx.endpoint, ctx.client_options);
        return Finish("SendMessageBatch", client.SendMessageBatch(req), &SendMessageBatchJson);
      });
  AddQueueFlags(cmd, &f->queue);
  cmd->add_option("--entries", f->entries, kEntriesHelp)->required();
}

void AddReceiveMessage(CommandSet& set) {
  struct Flags {
    QueueFlags queue;
    int max_number_of_messages = 0;
    std::optional<int> visibility_timeout;
    std::optional<int> wait_time_seconds;
    std::vector<std::string> attribute_names;
    std::vector<std::string> system_attribute_names;
    std::vector<std::string> message_attribute_names;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = set.Add(
      "receive-message", "Receives up to 10 messages, waiting for them if asked",
      [f](const CommandContext& ctx) {
        Result<std::string> name = QueueNameOf(f->queue);
        if (!name.ok()) return ReportUsageError(name.status().detail());
        pb::ReceiveMessageRequest req;
        req.set_queue_name(*name);
        req.set_max_number_of_messages(static_cast<uint32_t>(f->max_number_of_messages));
        if (f->visibility_timeout) req.set_visibility_timeout(*f->visibility_timeout);
        if (f->wait_time_seconds) req.set_wait_time_seconds(*f->wait_time_seconds);
        // aws-cli's two names for the system attributes to return.
        for (const auto& [flag, values] :
             {std::pair{"--attribute-names", &f->attribute_names},
              std::pair{"--message-system-attribute-names", &f->system_attribute_names}}) {
          Result<std::vector<std::string>> names = ParseStringList(*values);
          if (!names.ok())
            return ReportUsageError(std::string(flag) + ": " + names.status().detail());
          req.mutable_attribute_names()->Add(names->begin(), names->end());
        }
        Result<std::vector<std::string>> names = ParseStringList(f->message_attribute_names);
        if (!names.ok()) {
          return ReportUsageError("--message-attribute-names: " + names.status().detail());
        }
        req.mutable_message_attribute_names()->Add(names->begin(), names->end());
        Client client(ctx.endpoint, ctx.client_options);
        return Finish("ReceiveMessage", client.ReceiveMessage(req), &ReceiveMessageJson);
      });
  AddQueueFlags(cmd, &f->queue);
  cmd->add_option("--max-number-of-messages", f->max_number_of_messages, "1 to 10 (default 1)")
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
}

void AddDeleteMessage(CommandSet& set) {
  struct Flags {
    QueueFlags queue;
    std::string receipt_handle;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd =
      set.Add("delete-message", "Deletes a received message", [f](const CommandContext& ctx) {
        Result<std::string> name = QueueNameOf(f->queue);
        if (!name.ok()) return ReportUsageError(name.status().detail());
        pb::DeleteMessageRequest req;
        req.set_queue_name(*name);
        req.set_receipt_handle(f->receipt_handle);
        Client client(ctx.endpoint, ctx.client_options);
        return FinishQuietly("DeleteMessage", client.DeleteMessage(req));
      });
  AddQueueFlags(cmd, &f->queue);
  cmd->add_option("--receipt-handle", f->receipt_handle, "From the message's latest receive")
      ->required();
}

void AddDeleteMessageBatch(CommandSet& set) {
  struct Flags {
    QueueFlags queue;
    std::string entries;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = set.Add("delete-message-batch", "Deletes up to 10 received messages",
                          [f](const CommandContext& ctx) {
                            Result<std::string> name = QueueNameOf(f->queue);
                            if (!name.ok()) return ReportUsageError(name.status().detail());
                            Result<std::vector<pb::DeleteMessageBatchEntry>> entries =
                                FlagEntries(f->entries, &ParseDeleteEntries);
                            if (!entries.ok()) return ReportUsageError(entries.status().detail());
                            pb::DeleteMessageBatchRequest req;
                            req.set_queue_name(*name);
                            req.mutable_entries()->Assign(entries->begin(), entries->end());
                            Client client(ctx.endpoint, ctx.client_options);
                            return Finish("DeleteMessageBatch", client.DeleteMessageBatch(req),
                                          &DeleteMessageBatchJson);
                          });
  AddQueueFlags(cmd, &f->queue);
  cmd->add_option("--entries", f->entries, kEntriesHelp)->required();
}

void AddChangeMessageVisibility(CommandSet& set) {
  struct Flags {
    QueueFlags queue;
    std::string receipt_handle;
    int visibility_timeout = 0;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = set.Add(
      "change-message-visibility", "Hides a received message for longer, or releases it (0)",
      [f](const CommandContext& ctx) {
        Result<std::string> name = QueueNameOf(f->queue);
        if (!name.ok()) return ReportUsageError(name.status().detail());
        pb::ChangeMessageVisibilityRequest req;
        req.set_queue_name(*name);
        req.set_receipt_handle(f->receipt_handle);
        req.set_visibility_timeout(f->visibility_timeout);
        Client client(ctx.endpoint, ctx.client_options);
        return FinishQuietly("ChangeMessageVisibility", client.ChangeMessageVisibility(req));
      });
  AddQueueFlags(cmd, &f->queue);
  cmd->add_option("--receipt-handle", f->receipt_handle, "From the message's latest receive")
      ->required();
  cmd->add_option("--visibility-timeout", f->visibility_timeout,
                  "Seconds from now until the message is visible again")
      ->required();
}

void AddChangeMessageVisibilityBatch(CommandSet& set) {
  struct Flags {
    QueueFlags queue;
    std::string entries;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = set.Add(
      "change-message-visibility-batch", "Changes the visibility of up to 10 received messages",
      [f](const CommandContext& ctx) {
        Result<std::string> name = QueueNameOf(f->queue);
        if (!name.ok()) return ReportUsageError(name.status().detail());
        Result<std::vector<pb::ChangeMessageVisibilityBatchEntry>> entries =
            FlagEntries(f->entries, &ParseVisibilityEntries);
        if (!entries.ok()) return ReportUsageError(entries.status().detail());
        pb::ChangeMessageVisibilityBatchRequest req;
        req.set_queue_name(*name);
        req.mutable_entries()->Assign(entries->begin(), entries->end());
        Client client(ctx.endpoint, ctx.client_options);
        return Finish("ChangeMessageVisibilityBatch", client.ChangeMessageVisibilityBatch(req),
                      &ChangeMessageVisibilityBatchJson);
      });
  AddQueueFlags(cmd, &f->queue);
  cmd->add_option("--entries", f->entries, kEntriesHelp)->required();
}

}  // namespace

void AddSqsMessageCommands(CommandSet& set) {
  AddSendMessage(set);
  AddSendMessageBatch(set);
  AddReceiveMessage(set);
  AddDeleteMessage(set);
  AddDeleteMessageBatch(set);
  AddChangeMessageVisibility(set);
  AddChangeMessageVisibilityBatch(set);
}

}  // namespace sluice
