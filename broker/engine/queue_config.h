// QueueConfig: a queue's settable attributes, parsed from and printed as the
// name/value strings of SQS's CreateQueue, SetQueueAttributes and
// GetQueueAttributes. Ranges and defaults are SQS's.
#ifndef SLUICE_BROKER_ENGINE_QUEUE_CONFIG_H_
#define SLUICE_BROKER_ENGINE_QUEUE_CONFIG_H_

#include <map>
#include <optional>
#include <string>

#include "common/status.h"

namespace sluice {

struct RedrivePolicy {
  std::string dead_letter_queue;  // a queue name
  int max_receive_count = 0;      // 1-1,000

  bool operator==(const RedrivePolicy&) const = default;
};

struct QueueConfig {
  bool fifo = false;
  bool content_based_deduplication = false;
  int visibility_timeout_s = 30;
  int message_retention_s = 345'600;  // 4 days
  int delay_s = 0;
  int receive_wait_s = 0;
  int max_message_size = 1 << 20;
  std::optional<RedrivePolicy> redrive;

  bool operator==(const QueueConfig&) const = default;
};

using AttributeMap = std::map<std::string, std::string>;
using TagMap = std::map<std::string, std::string>;

// How queue ARNs are spelled: arn:aws:sqs:REGION:ACCOUNT:NAME. The region and
// account are the broker's settings (--region, --account-id); clients parse
// them, and only the name identifies the queue.
struct ArnFormat {
  std::string region = "us-east-1";
  std::string account_id = "000000000000";

  std::string Of(const std::string& queue_name) const;
};

// Applies `attributes` on top of `config`. `creating` allows FifoQueue, which
// SQS fixes at creation. Unknown names give InvalidAttributeName; values out of
// range or malformed give InvalidAttributeValue. Whether a redrive target
// exists is the engine's check, not this one's.
Status ApplyAttributes(const AttributeMap& attributes, bool creating, QueueConfig* config);

// The settable attributes as SQS prints them (RedrivePolicy as JSON with the
// dead-letter queue's ARN, spelled by `arns`).
AttributeMap ConfigAttributes(const QueueConfig& config, const ArnFormat& arns);

// The queue name in an ARN, URL or bare name (the part after the last ':' or
// '/'), whatever its region, account or host.
std::string QueueNameFromArnOrName(const std::string& arn_or_name);

}  // namespace sluice

#endif  // SLUICE_BROKER_ENGINE_QUEUE_CONFIG_H_
