// The JSON arguments that carry messages and batches, in aws-cli's shapes:
//   --message-attributes {"Name": {"DataType": "String", "StringValue": "x"}}
//     (a Binary value is "BinaryValue": "<base64>")
//   send-message-batch --entries
//     [{"Id", "MessageBody", "DelaySeconds", "MessageAttributes",
//       "MessageGroupId", "MessageDeduplicationId"}]
//   delete-message-batch --entries [{"Id", "ReceiptHandle"}]
//   change-message-visibility-batch --entries
//     [{"Id", "ReceiptHandle", "VisibilityTimeout"}]
//
// Like aws-cli's own checks, these refuse what cannot be sent (unknown keys,
// missing required keys, wrong JSON types, bad base64) and leave the rules
// of SQS (batch sizes, id syntax, value ranges) to the broker. Errors are
// InvalidParameterValue and locate the problem ("[1].ReceiptHandle: ...").
#ifndef SLUICE_PRODUCER_CLI_BATCH_ENTRIES_H_
#define SLUICE_PRODUCER_CLI_BATCH_ENTRIES_H_

#include <string_view>
#include <vector>

#include "common/status.h"
#include "sluice.pb.h"

namespace sluice {

// Fills `out` from a --message-attributes JSON object.
Status ParseMessageAttributes(std::string_view text,
                              google::protobuf::Map<std::string, pb::MessageAttributeValue>* out);

Result<std::vector<pb::SendMessageEntry>> ParseSendEntries(std::string_view text);
Result<std::vector<pb::DeleteMessageBatchEntry>> ParseDeleteEntries(std::string_view text);
Result<std::vector<pb::ChangeMessageVisibilityBatchEntry>> ParseVisibilityEntries(
    std::string_view text);

}  // namespace sluice

#endif  // SLUICE_PRODUCER_CLI_BATCH_ENTRIES_H_
