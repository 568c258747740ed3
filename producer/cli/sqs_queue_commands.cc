// The queue subcommands: create-queue, delete-queue, get-queue-url,
// list-queues, get-queue-attributes, set-queue-attributes, purge-queue,
// list-dead-letter-source-queues.
#include <optional>
#include <string>
#include <vector>

#include "producer/cli/operation_command.h"
#include "producer/cli/sqs_commands.h"
#include "producer/cli/sqs_flags.h"

namespace sluice {

void AddSqsCommand(CommandSet& set, ops::CreateQueue) {
  struct Flags {
    std::string queue_name;
    std::optional<std::string> attributes;
    std::optional<std::string> tags;
  };
  AddOperationCommand<ops::CreateQueue, Flags>(
      set,
      {.help = "Creates a queue; with the same attributes again, answers its URL",
       .add_flags =
           [](CLI::App* cmd, Flags* f) {
             cmd->add_option("--queue-name", f->queue_name,
                             "The queue's name (a FIFO queue's ends in .fifo)")
                 ->required();
             AddOptionalFlag(cmd, "--attributes", &f->attributes,
                             "Name=Value,... or a JSON object (or file://PATH)");
             AddOptionalFlag(cmd, "--tags", &f->tags,
                             "Key=Value,... or a JSON object (or file://PATH)");
           },
       .fill =
           [](const Flags& f, pb::CreateQueueRequest* req) {
             req->set_queue_name(f.queue_name);
             if (f.attributes) {
               Result<AttributeMap> attributes = FlagAttributes("--attributes", *f.attributes);
               if (!attributes.ok()) return attributes.status();
               req->mutable_attributes()->insert(attributes->begin(), attributes->end());
             }
             if (f.tags) {
               Result<AttributeMap> tags = FlagAttributes("--tags", *f.tags);
               if (!tags.ok()) return tags.status();
               req->mutable_tags()->insert(tags->begin(), tags->end());
             }
             return Status::Ok();
           },
       .print = [](const auto& a) { return QueueUrlJson(a.endpoint, a.request.queue_name()); }});
}

void AddSqsCommand(CommandSet& set, ops::DeleteQueue) {
  AddOperationCommand<ops::DeleteQueue, QueueFlags>(
      set, {.help = "Deletes a queue and its messages",
            .add_flags = &AddQueueFlags,
            .fill = &FillQueueName<pb::DeleteQueueRequest>});
}

void AddSqsCommand(CommandSet& set, ops::GetQueueUrl) {
  AddOperationCommand<ops::GetQueueUrl, std::string>(
      set,
      {.help = "Prints the URL of an existing queue",
       .add_flags =
           [](CLI::App* cmd, std::string* name) {
             cmd->add_option("--queue-name", *name, "The queue's name")->required();
           },
       .fill =
           [](const std::string& name, pb::GetQueueUrlRequest* req) {
             req->set_queue_name(name);
             return Status::Ok();
           },
       .print = [](const auto& a) { return QueueUrlJson(a.endpoint, a.request.queue_name()); }});
}

void AddSqsCommand(CommandSet& set, ops::ListQueues) {
  struct Flags {
    std::string prefix;
    int max_results = 0;
    std::string next_token;
  };
  AddOperationCommand<ops::ListQueues, Flags>(
      set,
      {.help = "Lists the URLs of queues, by name prefix, a page at a time",
       .add_flags =
           [](CLI::App* cmd, Flags* f) {
             cmd->add_option("--queue-name-prefix", f->prefix,
                             "Only queues whose name starts with this");
             cmd->add_option("--max-results", f->max_results, "At most this many (default 1000)")
                 ->check(NonNegativeInt());
             cmd->add_option("--next-token", f->next_token, "The NextToken of the previous page");
           },
       .fill =
           [](const Flags& f, pb::ListQueuesRequest* req) {
             req->set_queue_name_prefix(f.prefix);
             req->set_max_results(static_cast<uint32_t>(f.max_results));
             req->set_next_token(f.next_token);
             return Status::Ok();
           },
       .print = [](const auto& a) { return ListQueuesJson(a.endpoint, a.response); }});
}

void AddSqsCommand(CommandSet& set, ops::GetQueueAttributes) {
  struct Flags {
    QueueFlags queue;
    std::vector<std::string> attribute_names;
  };
  AddOperationCommand<ops::GetQueueAttributes, Flags>(
      set, {.help = "Prints a queue's attributes",
            .add_flags =
                [](CLI::App* cmd, Flags* f) {
                  AddQueueFlags(cmd, &f->queue);
                  cmd->add_option("--attribute-names", f->attribute_names,
                                  "Attribute names, or All (the default)");
                },
            .fill =
                [](const Flags& f, pb::GetQueueAttributesRequest* req) {
                  if (Status s = FillQueueName(f.queue, req); !s.ok()) return s;
                  Result<std::vector<std::string>> names = ParseStringList(f.attribute_names);
                  if (!names.ok()) return FlagError("--attribute-names", names.status());
                  req->mutable_attribute_names()->Add(names->begin(), names->end());
                  return Status::Ok();
                },
            .print = [](const auto& a) { return GetQueueAttributesJson(a.response); }});
}

void AddSqsCommand(CommandSet& set, ops::SetQueueAttributes) {
  struct Flags {
    QueueFlags queue;
    std::string attributes;
  };
  AddOperationCommand<ops::SetQueueAttributes, Flags>(
      set, {.help = "Changes a queue's attributes",
            .add_flags =
                [](CLI::App* cmd, Flags* f) {
                  AddQueueFlags(cmd, &f->queue);
                  cmd->add_option("--attributes", f->attributes,
                                  "Name=Value,... or a JSON object (or file://PATH)")
                      ->required();
                },
            .fill =
                [](const Flags& f, pb::SetQueueAttributesRequest* req) {
                  if (Status s = FillQueueName(f.queue, req); !s.ok()) return s;
                  Result<AttributeMap> attributes = FlagAttributes("--attributes", f.attributes);
                  if (!attributes.ok()) return attributes.status();
                  req->mutable_attributes()->insert(attributes->begin(), attributes->end());
                  return Status::Ok();
                }});
}

void AddSqsCommand(CommandSet& set, ops::PurgeQueue) {
  AddOperationCommand<ops::PurgeQueue, QueueFlags>(
      set, {.help = "Deletes every message of a queue, in flight included",
            .add_flags = &AddQueueFlags,
            .fill = &FillQueueName<pb::PurgeQueueRequest>});
}

void AddSqsCommand(CommandSet& set, ops::ListDeadLetterSourceQueues) {
  struct Flags {
    QueueFlags queue;
    int max_results = 0;
    std::string next_token;
  };
  AddOperationCommand<ops::ListDeadLetterSourceQueues, Flags>(
      set,
      {.help = "Lists the URLs of the queues whose dead-letter queue this one is",
       .add_flags =
           [](CLI::App* cmd, Flags* f) {
             AddQueueFlags(cmd, &f->queue);
             cmd->add_option("--max-results", f->max_results, "At most this many (default 1000)")
                 ->check(NonNegativeInt());
             cmd->add_option("--next-token", f->next_token, "The NextToken of the previous page");
           },
       .fill =
           [](const Flags& f, pb::ListDeadLetterSourceQueuesRequest* req) {
             if (Status s = FillQueueName(f.queue, req); !s.ok()) return s;
             req->set_max_results(static_cast<uint32_t>(f.max_results));
             req->set_next_token(f.next_token);
             return Status::Ok();
           },
       .print =
           [](const auto& a) { return ListDeadLetterSourceQueuesJson(a.endpoint, a.response); }});
}

}  // namespace sluice
