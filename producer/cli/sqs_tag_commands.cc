// The tag subcommands: tag-queue, untag-queue, list-queue-tags.
#include <string>
#include <vector>

#include "producer/cli/operation_command.h"
#include "producer/cli/sqs_commands.h"
#include "producer/cli/sqs_flags.h"

namespace sluice {

void AddSqsCommand(CommandSet& set, ops::TagQueue) {
  struct Flags {
    QueueFlags queue;
    std::string tags;
  };
  AddOperationCommand<ops::TagQueue, Flags>(
      set, {.help = "Adds tags to a queue, or changes the values of tags it has",
            .add_flags =
                [](CLI::App* cmd, Flags* f) {
                  AddQueueFlags(cmd, &f->queue);
                  cmd->add_option("--tags", f->tags,
                                  "Key=Value,... or a JSON object (or file://PATH)")
                      ->required();
                },
            .fill =
                [](const Flags& f, pb::TagQueueRequest* req) {
                  if (Status s = FillQueueName(f.queue, req); !s.ok()) return s;
                  Result<AttributeMap> tags = FlagAttributes("--tags", f.tags);
                  if (!tags.ok()) return tags.status();
                  req->mutable_tags()->insert(tags->begin(), tags->end());
                  return Status::Ok();
                }});
}

void AddSqsCommand(CommandSet& set, ops::UntagQueue) {
  struct Flags {
    QueueFlags queue;
    std::vector<std::string> tag_keys;
  };
  AddOperationCommand<ops::UntagQueue, Flags>(
      set, {.help = "Removes tags from a queue",
            .add_flags =
                [](CLI::App* cmd, Flags* f) {
                  AddQueueFlags(cmd, &f->queue);
                  cmd->add_option("--tag-keys", f->tag_keys, "The keys of the tags to remove")
                      ->required();
                },
            .fill =
                [](const Flags& f, pb::UntagQueueRequest* req) {
                  if (Status s = FillQueueName(f.queue, req); !s.ok()) return s;
                  Result<std::vector<std::string>> keys = ParseStringList(f.tag_keys);
                  if (!keys.ok()) return FlagError("--tag-keys", keys.status());
                  req->mutable_tag_keys()->Add(keys->begin(), keys->end());
                  return Status::Ok();
                }});
}

void AddSqsCommand(CommandSet& set, ops::ListQueueTags) {
  AddOperationCommand<ops::ListQueueTags, QueueFlags>(
      set, {.help = "Prints a queue's tags",
            .add_flags = &AddQueueFlags,
            .fill = &FillQueueName<pb::ListQueueTagsRequest>,
            .print = [](const auto& a) { return ListQueueTagsJson(a.response); }});
}

}  // namespace sluice
