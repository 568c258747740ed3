#include "tests/fuzz/sqs_call.h"

#include <string>

#include "broker/http/api_error.h"
#include "broker/http/request_decoder.h"
#include "broker/http/response_encoder.h"
#include "common/wire_error.h"

namespace sluice::fuzz {
namespace {

constexpr char kRequestId[] = "00000000-0000-4000-8000-000000000000";

// Whether `xml` is UTF-8 holding only characters XML 1.0 allows (#x9, #xA,
// #xD, #x20-#xD7FF, #xE000-#xFFFD, #x10000-#x10FFFF): what a client's XML
// parser needs to read the answer at all.
bool IsXmlText(std::string_view xml) {
  for (size_t i = 0; i < xml.size();) {
    const auto byte = [&](size_t at) { return static_cast<unsigned char>(xml[at]); };
    const unsigned char lead = byte(i);
    size_t length = lead < 0x80                   ? 1
                    : lead >= 0xC2 && lead < 0xE0 ? 2
                    : lead >= 0xE0 && lead < 0xF0 ? 3
                    : lead >= 0xF0 && lead < 0xF5 ? 4
                                                  : 0;
    if (length == 0 || i + length > xml.size()) return false;
    uint32_t cp = length == 1 ? lead : lead & (0x7F >> length);
    for (size_t k = 1; k < length; ++k) {
      if ((byte(i + k) & 0xC0) != 0x80) return false;
      cp = cp << 6 | (byte(i + k) & 0x3F);
    }
    const bool overlong = (length == 3 && cp < 0x800) || (length == 4 && cp < 0x10000);
    const bool allowed = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                         (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
    if (overlong || !allowed) return false;
    i += length;
  }
  return true;
}

// Both protocols' bodies of an error, as the session renders them.
void RenderError(const http::ApiError& error) {
  Check(error.http_status >= 400 && error.http_status < 600, "an error has an error's status");
  Check(!error.message.empty(), "an error says what is wrong");
  (void)http::RenderJsonError(error);
  (void)http::QueryErrorHeader(error);
  Check(IsXmlText(http::RenderXmlError(error, kRequestId)), "an XML error is XML text");
}

}  // namespace

void SqsCall(FuzzBroker& broker, std::string_view action, std::string_view params,
             std::string_view path_queue, std::string_view url_prefix) {
  auto decoded = http::DecodeRequest(action, params, path_queue);
  if (!decoded.ok()) return RenderError(decoded.error());
  http::DecodedRequest call = std::move(*decoded);
  const pb::Request request = std::move(call.request);
  call.request = http::WhatEncodingNeeds(request);
  const pb::Response resp = broker.Call(request);
  if (resp.has_error() && resp.error().code() != pb::OK) {
    return RenderError(http::ToApiError({FromWire(resp.error().code()), resp.error().detail()}));
  }
  const SqsJson result = http::EncodeResult(call, resp, url_prefix);
  (void)http::RenderJson(result);
  Check(IsXmlText(http::RenderXml(action, result, kRequestId)), "an XML answer is XML text");
}

}  // namespace sluice::fuzz
