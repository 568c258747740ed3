// Fuzz target: the SQS protocols' decoders without HTTP around them, where
// each execution goes further for the same time. An input whose first line
// holds no '=' is a JSON-protocol call: that line is its action (what
// X-Amz-Target names after "AmazonSQS.") and the rest its body. Any other
// input is a query-protocol call: form text (ParseForm), its flattened names
// rebuilt as JSON (QueryParamsToJson), the action from its Action member.
// Either is then decoded, answered and encoded (sqs_call.h), and the path's
// queue is "q", as for a call posted to that queue's URL.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "broker/http/form.h"
#include "broker/http/query_params.h"
#include "tests/fuzz/fuzz_broker.h"
#include "tests/fuzz/sqs_call.h"
#include "tests/fuzz/targets.h"

namespace sluice::fuzz {
namespace {

using json = nlohmann::json;

constexpr std::string_view kUrlPrefix = "http://127.0.0.1:9324/000000000000/";

}  // namespace

int FuzzSqsDecode(const uint8_t* data, size_t size) {
  static const bool quiet = (QuietLogs(), true);
  (void)quiet;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  FuzzBroker broker;
  if (const size_t eol = input.find('\n');
      eol != std::string_view::npos && input.substr(0, eol).find('=') == std::string_view::npos) {
    SqsCall(broker, input.substr(0, eol), input.substr(eol + 1), "q", kUrlPrefix);
    return 0;
  }
  Result<http::FormParams> form = http::ParseForm(input);
  if (!form.ok()) return 0;
  Result<json> rebuilt = http::QueryParamsToJson(*form);
  if (!rebuilt.ok()) return 0;
  // What HttpSession hands the decoder: compact JSON, invalid UTF-8 replaced.
  const std::string params = rebuilt->dump(-1, ' ', false, json::error_handler_t::replace);
  auto action = rebuilt->find("Action");
  if (action == rebuilt->end() || !action->is_string()) return 0;
  SqsCall(broker, action->get<std::string>(), params, "q", kUrlPrefix);
  return 0;
}

}  // namespace sluice::fuzz
