// The wire protocol's answers in SQS's JSON shapes: the members an SQS
// client's parsed result has (boto3's dict, the JSON protocol's body, what
// aws-cli prints), in aws-cli's order, with maps sorted by key and binary
// values in base64. The CLI prints them; the HTTP front end sends them.
#ifndef SLUICE_PROTO_SQS_JSON_H_
#define SLUICE_PROTO_SQS_JSON_H_

#include <nlohmann/json.hpp>
#include <string>

#include "sluice.pb.h"

namespace sluice {

// Keeps members in insertion order, as aws-cli prints them.
using SqsJson = nlohmann::ordered_json;

SqsJson StringMapJson(const google::protobuf::Map<std::string, std::string>& map);
SqsJson MessageAttributesJson(
    const google::protobuf::Map<std::string, pb::MessageAttributeValue>& attributes);
// SendMessage's answer.
SqsJson SendMessageResultJson(const pb::SendMessageResult& r);
// One entry of SendMessageBatch's Successful list: the same members in
// another order, and its Id.
SqsJson SendBatchResultJson(const pb::SendMessageResult& r);
// One message of ReceiveMessage's Messages.
SqsJson MessageJson(const pb::Message& m);
// One task of ListMessageMoveTasks' Results.
SqsJson MoveTaskJson(const pb::MessageMoveTask& t);

}  // namespace sluice

#endif  // SLUICE_PROTO_SQS_JSON_H_
