// The BenchClient of SQS's query protocol (a form body Action=<Op>&..., XML
// answers), as boto3 1.26 and the aws CLI 2.9 speak it, over one kept-alive
// HttpConnection. Unsigned: the server must not require signatures.
//
// The XML is read by tag only, enough for the answers this client asks for:
// the elements it reads (QueueUrl, Message, ReceiptHandle, Body, the batch
// entries, Code, Message) are not nested in elements of their own name.
#ifndef SLUICE_BENCH_QUERY_CLIENT_H_
#define SLUICE_BENCH_QUERY_CLIENT_H_

#include <memory>
#include <string>

#include "bench/bench_client.h"

namespace sluice::bench {

// `endpoint` is http://HOST:PORT.
std::unique_ptr<BenchClient> NewQueryClient(const std::string& endpoint, const std::string& queue);

}  // namespace sluice::bench

#endif  // SLUICE_BENCH_QUERY_CLIENT_H_
