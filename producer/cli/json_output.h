// The broker's answers as aws-cli prints them: the same keys in the same
// order, lists and optional members left out when empty as aws-cli does.
//
// Each function gives the JSON to print, or null when aws-cli prints nothing
// (an empty receive, an empty queue list). Queue URLs are built from the
// endpoint the CLI used. Binary attribute values are shown in base64.
#ifndef SLUICE_PRODUCER_CLI_JSON_OUTPUT_H_
#define SLUICE_PRODUCER_CLI_JSON_OUTPUT_H_

#include <string>

#include "proto/sqs_json.h"
#include "sluice.pb.h"

namespace sluice {

// Keeps members in insertion order, as aws-cli prints them.
using OutputJson = SqsJson;

// {"QueueUrl": "<endpoint>/<name>"}: create-queue and get-queue-url.
OutputJson QueueUrlJson(const std::string& endpoint, const std::string& queue_name);
OutputJson ListQueuesJson(const std::string& endpoint, const pb::ListQueuesResponse& resp);
OutputJson GetQueueAttributesJson(const pb::GetQueueAttributesResponse& resp);
OutputJson ListQueueTagsJson(const pb::ListQueueTagsResponse& resp);
// {"queueUrls": [...]}: aws-cli's key is lower-case here.
OutputJson ListDeadLetterSourceQueuesJson(const std::string& endpoint,
                                          const pb::ListDeadLetterSourceQueuesResponse& resp);
OutputJson SendMessageJson(const pb::SendMessageResponse& resp);
OutputJson SendMessageBatchJson(const pb::SendMessageBatchResponse& resp);
OutputJson ReceiveMessageJson(const pb::ReceiveMessageResponse& resp);
OutputJson DeleteMessageBatchJson(const pb::DeleteMessageBatchResponse& resp);
OutputJson ChangeMessageVisibilityBatchJson(const pb::ChangeMessageVisibilityBatchResponse& resp);
OutputJson StartMessageMoveTaskJson(const pb::StartMessageMoveTaskResponse& resp);
OutputJson CancelMessageMoveTaskJson(const pb::CancelMessageMoveTaskResponse& resp);
OutputJson ListMessageMoveTasksJson(const pb::ListMessageMoveTasksResponse& resp);

// The text to print: 4-space indent, a final newline; empty for null. Bytes
// that are not UTF-8 become U+FFFD instead of failing.
std::string FormatJson(const OutputJson& json);

}  // namespace sluice

#endif  // SLUICE_PRODUCER_CLI_JSON_OUTPUT_H_
