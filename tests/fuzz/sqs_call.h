// SqsCall: what the HTTP front end does with a call once it has its action
// and its members as JSON text (HttpSession::Handle, after the transport):
// decode it into a wire Request, answer it on a FuzzBroker, and encode the
// answer or the error in both protocols, as a client would get it. Shared by
// the HTTP fuzz targets, so that whatever a decoder lets through also meets
// the engine's validation and the response encoders.
#ifndef SLUICE_TESTS_FUZZ_SQS_CALL_H_
#define SLUICE_TESTS_FUZZ_SQS_CALL_H_

#include <string_view>

#include "tests/fuzz/fuzz_broker.h"

namespace sluice::fuzz {

void SqsCall(FuzzBroker& broker, std::string_view action, std::string_view params,
             std::string_view path_queue, std::string_view url_prefix);

}  // namespace sluice::fuzz

#endif  // SLUICE_TESTS_FUZZ_SQS_CALL_H_
