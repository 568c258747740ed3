// The queue subcommands: create-queue, delete-queue, get-queue-url,
// list-queues, get-queue-attributes, set-queue-attributes, purge-queue.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/client.h"
#include "producer/cli/sqs_commands.h"
#include "producer/cli/sqs_flags.h"

namespace sluice {
namespace {

void AddCreateQueue(CommandSet& set) {
  struct Flags {
    std::string queue_name;
    std::optional<std::string> attributes;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = set.Add(
      "create-queue", "Creates a queue; with the same attributes again, answers its URL",
      [f](const CommandContext& ctx) {
        pb::CreateQueueRequest req;
        req.set_queue_name(f->queue_name);
        if (f->attributes) {
          Result<AttributeMap> attributes = FlagAttributes("--attributes", *f->attributes);
          if (!attributes.ok()) return ReportUsageError(attributes.status().detail());
          req.mutable_attributes()->insert(attributes->begin(), attributes->end());
        }
        Client client(ctx.endpoint, ctx.client_options);
        return Finish("CreateQueue", client.CreateQueue(req),
                      [&](const auto&) { return QueueUrlJson(ctx.endpoint, f->queue_name); });
      });
  cmd->add_option("--queue-name", f->queue_name, "The queue's name (a FIFO queue's ends in .fifo)")
      ->required();
  AddOptionalFlag(cmd, "--attributes", &f->attributes,
                  "Name=Value,... or a JSON object (or file://PATH)");
}

void AddDeleteQueue(CommandSet& set) {
  auto f = std::make_shared<QueueFlags>();
  CLI::App* cmd =
      set.Add("delete-queue", "Deletes a queue and its messages", [f](const CommandContext& ctx) {
        Result<std::string> name = QueueNameOf(*f);
        if (!name.ok()) return ReportUsageError(name.status().detail());
        pb::DeleteQueueRequest req;
        req.set_queue_name(*name);
        Client client(ctx.endpoint, ctx.client_options);
        return FinishQuietly("DeleteQueue", client.DeleteQueue(req));
      });
  AddQueueFlags(cmd, f.get());
}

void AddGetQueueUrl(CommandSet& set) {
  auto f = std::make_shared<std::string>();
  CLI::App* cmd = set.Add(
      "get-queue-url", "Prints the URL of an existing queue", [f](const CommandContext& ctx) {
        pb::GetQueueUrlRequest req;
        req.set_queue_name(*f);
        Client client(ctx.endpoint, ctx.client_options);
        return Finish("GetQueueUrl", client.GetQueueUrl(req),
                      [&](const auto&) { return QueueUrlJson(ctx.endpoint, *f); });
      });
  cmd->add_option("--queue-name", *f, "The queue's name")->required();
}

void AddListQueues(CommandSet& set) {
  struct Flags {
    std::string prefix;
    int max_results = 0;
    std::string next_token;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = set.Add(
      "list-queues", "Lists the URLs of queues, by name prefix, a page at a time",
      [f](const CommandContext& ctx) {
        pb::ListQueuesRequest req;
        req.set_queue_name_prefix(f->prefix);
        req.set_max_results(static_cast<uint32_t>(f->max_results));
        req.set_next_token(f->next_token);
        Client client(ctx.endpoint, ctx.client_options);
        return Finish("ListQueues", client.ListQueues(req), [&](const pb::ListQueuesResponse& r) {
          return ListQueuesJson(ctx.endpoint, r);
        });
      });
  cmd->add_option("--queue-name-prefix", f->prefix, "Only queues whose name starts with this");
  cmd->add_option("--max-results", f->max_results, "At most this many (default 1000)")
      ->check(NonNegativeInt());
  cmd->add_option("--next-token", f->next_token, "The NextToken of the previous page");
}

void AddGetQueueAttributes(CommandSet& set) {
  struct Flags {
    QueueFlags queue;
    std::vector<std::string> attribute_names;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = set.Add(
      "get-queue-attributes", "Prints a queue's attributes", [f](const CommandContext& ctx) {
        Result<std::string> name = QueueNameOf(f->queue);
        if (!name.ok()) return ReportUsageError(name.status().detail());
        Result<std::vector<std::string>> names = ParseStringList(f->attribute_names);
        if (!names.ok()) return ReportUsageError("--attribute-names: " + names.status().detail());
        pb::GetQueueAttributesRequest req;
        req.set_queue_name(*name);
        req.mutable_attribute_names()->Add(names->begin(), names->end());
        Client client(ctx.endpoint, ctx.client_options);
        return Finish("GetQueueAttributes", client.GetQueueAttributes(req),
                      &GetQueueAttributesJson);
      });
  AddQueueFlags(cmd, &f->queue);
  cmd->add_option("--attribute-names", f->attribute_names, "Attribute names, or All (the default)");
}

void AddSetQueueAttributes(CommandSet& set) {
  struct Flags {
    QueueFlags queue;
    std::string attributes;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = set.Add(
      "set-queue-attributes", "Changes a queue's attributes", [f](const CommandContext& ctx) {
        Result<std::string> name = QueueNameOf(f->queue);
        if (!name.ok()) return ReportUsageError(name.status().detail());
        Result<AttributeMap> attributes = FlagAttributes("--attributes", f->attributes);
        if (!attributes.ok()) return ReportUsageError(attributes.status().detail());
        pb::SetQueueAttributesRequest req;
        req.set_queue_name(*name);
        req.mutable_attributes()->insert(attributes->begin(), attributes->end());
        Client client(ctx.endpoint, ctx.client_options);
        return FinishQuietly("SetQueueAttributes", client.SetQueueAttributes(req));
      });
  AddQueueFlags(cmd, &f->queue);
  cmd->add_option("--attributes", f->attributes, "Name=Value,... or a JSON object (or file://PATH)")
      ->required();
}

void AddPurgeQueue(CommandSet& set) {
  auto f = std::make_shared<QueueFlags>();
  CLI::App* cmd = set.Add("purge-queue", "Deletes every message of a queue, in flight included",
                          [f](const CommandContext& ctx) {
                            Result<std::string> name = QueueNameOf(*f);
                            if (!name.ok()) return ReportUsageError(name.status().detail());
                            pb::PurgeQueueRequest req;
                            req.set_queue_name(*name);
                            Client client(ctx.endpoint, ctx.client_options);
                            return FinishQuietly("PurgeQueue", client.PurgeQueue(req));
                          });
  AddQueueFlags(cmd, f.get());
}

}  // namespace

void AddSqsQueueCommands(CommandSet& set) {
  AddCreateQueue(set);
  AddDeleteQueue(set);
  AddGetQueueUrl(set);
  AddListQueues(set);
  AddGetQueueAttributes(set);
  AddSetQueueAttributes(set);
  AddPurgeQueue(set);
}

}  // namespace sluice
