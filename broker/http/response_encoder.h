// Encoding the wire protocol's Response as SQS's HTTP protocols answer it.
//
// EncodeResult gives the call's output members as the JSON protocol names
// them (the boto3 result's keys); RenderJson and RenderXml give the body of
// each protocol from it, and Render*Error the body of an error. The query
// protocol's XML flattens lists into repeated elements and maps into
// Name/Value (Key/Value for tags) pairs (../shared/sqs-http-api.md).
//
// Queue URLs are `url_prefix` + name, url_prefix being
// "http://HOST:PORT/ACCOUNT/".
#ifndef SLUICE_BROKER_HTTP_RESPONSE_ENCODER_H_
#define SLUICE_BROKER_HTTP_RESPONSE_ENCODER_H_

#include <string>
#include <string_view>

#include "broker/http/api_error.h"
#include "broker/http/request_decoder.h"
#include "proto/sqs_json.h"
#include "sluice.pb.h"

namespace sluice::http {

// `resp` must be a success.
SqsJson EncodeResult(const DecodedRequest& call, const pb::Response& resp,
                     std::string_view url_prefix);

// The part of a call's request that EncodeResult reads (queue names,
// attribute names), so that the rest, bodies included, need not be kept.
pb::Request WhatEncodingNeeds(const pb::Request& req);

std::string RenderJson(const SqsJson& result);
std::string RenderXml(std::string_view action, const SqsJson& result, std::string_view request_id);

std::string RenderJsonError(const ApiError& error);
// The x-amzn-query-error header of a JSON error: "Code;Sender".
std::string QueryErrorHeader(const ApiError& error);
std::string RenderXmlError(const ApiError& error, std::string_view request_id);

// XML text with &, <, > escaped and CR as &#xD;, so that a body with "\r\n"
// reaches the client unchanged (XML parsers turn a raw CR LF into LF). A
// byte that XML 1.0 cannot hold (a control character, or one that is not
// part of UTF-8 text) becomes U+FFFD, so that an answer quoting a client's
// bytes still parses.
void AppendXmlEscaped(std::string_view text, std::string* out);

}  // namespace sluice::http

#endif  // SLUICE_BROKER_HTTP_RESPONSE_ENCODER_H_
