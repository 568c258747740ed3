// How the CLI names a broker and a queue: broker endpoints, and queue URLs
// in the form `<endpoint>/<queue name>`, the counterpart of SQS's queue URLs.
#ifndef SLUICE_PRODUCER_CLI_URLS_H_
#define SLUICE_PRODUCER_CLI_URLS_H_

#include <string>

#include "common/status.h"

namespace sluice {

// Accepts tcp://HOST:PORT (PORT a number from 1 to 65535) and ipc://PATH, the
// transports a broker listens on. Fails with InvalidParameterValue, saying
// what was expected.
Status CheckBrokerEndpoint(const std::string& endpoint);

// "tcp://127.0.0.1:7400" and "jobs" give "tcp://127.0.0.1:7400/jobs".
std::string QueueUrl(const std::string& endpoint, const std::string& queue_name);

// The queue name in a queue URL: its last '/'-separated segment, so SQS's own
// URLs (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME) work too. A URL without
// '/' is taken as a bare name. Fails when the segment is empty.
Result<std::string> QueueNameFromUrl(const std::string& url);

}  // namespace sluice

#endif  // SLUICE_PRODUCER_CLI_URLS_H_
