// sluice-bench: drives a running broker with one workload (send, receive or
// mixed) from N client threads, over ZeroMQ or SQS's HTTP protocols
// (--protocol), and prints one line of key=value results:
//
//   workload=send threads=8 batch=10 messages=200000 seconds=4.100
//   msgs_per_s=48780 sent=200000 received=0 deleted=0 requests=20000 ...
//   protocol=zmq p50_ms=0.412 p99_ms=2.310 send_p50_ms=0.412 ...
//
// (on one line; latencies as bench/latency.h defines them, 0 for a kind of
// call the workload did not make). Exit codes: 0 when every answer was a success, 1 on any
// error answer or timeout (the line is still printed, with error="..."),
// 2 for bad flags. See docs/benchmarks.md.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>
#include <string>

#include "bench/bench_client.h"
#include "bench/latency.h"
#include "bench/workload.h"
#include "client/client.h"
#include "client/curve_flags.h"
#include "common/status.h"

namespace sluice::bench {
namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

// The broker's --http-listen default.
constexpr const char* kDefaultHttpEndpoint = "http://127.0.0.1:9324";

const char* WorkloadName(Workload w) {
  switch (w) {
    case Workload::kSend:
      return "send";
    case Workload::kReceive:
      return "receive";
    case Workload::kMixed:
      return "mixed";
  }
  return "?";
}

// Creates the queue with default attributes unless it exists.
Status EnsureQueue(const WorkloadOptions& o) {
  return NewBenchClient(o.protocol, o.endpoint, o.queue, o.zmq_options)->CreateQueue();
}

// The results line; `messages` is what defines the workload's end.
void PrintResult(const WorkloadOptions& o, const WorkloadResult& r) {
  const int64_t messages = o.workload == Workload::kSend ? r.sent : r.deleted;
  const double rate = r.seconds > 0 ? messages / r.seconds : 0;
  std::printf(
      "workload=%s threads=%d batch=%d messages=%lld seconds=%.3f msgs_per_s=%.0f sent=%lld "
      "received=%lld deleted=%lld requests=%lld send_seconds=%.3f body_bytes=%d client_cpu_s=%.2f",
      WorkloadName(o.workload), o.threads, o.batch, static_cast<long long>(messages), r.seconds,
      rate, static_cast<long long>(r.sent), static_cast<long long>(r.received),
      static_cast<long long>(r.deleted), static_cast<long long>(r.requests), r.send_seconds,
      o.body_bytes, r.cpu_seconds);
  const LatencySummary& l = r.latency;
  std::printf(
      " protocol=%s p50_ms=%.3f p99_ms=%.3f send_p50_ms=%.3f send_p99_ms=%.3f "
      "receive_p50_ms=%.3f receive_p99_ms=%.3f delete_p50_ms=%.3f delete_p99_ms=%.3f "
      "empty_receives=%lld",
      ProtocolName(o.protocol), l.all.p50_ms, l.all.p99_ms,
      l.by_kind[static_cast<int>(CallKind::kSend)].p50_ms,
      l.by_kind[static_cast<int>(CallKind::kSend)].p99_ms,
      l.by_kind[static_cast<int>(CallKind::kReceive)].p50_ms,
      l.by_kind[static_cast<int>(CallKind::kReceive)].p99_ms,
      l.by_kind[static_cast<int>(CallKind::kDelete)].p50_ms,
      l.by_kind[static_cast<int>(CallKind::kDelete)].p99_ms,
      static_cast<long long>(r.empty_receives));
  if (!r.error.empty()) {
    std::string quoted;
    for (char c : r.error) quoted += c == '"' ? '\'' : c;
    std::printf(" error=\"%s\"", quoted.c_str());
  }
  std::printf("\n");
  std::fflush(stdout);
}

int Main(int argc, char** argv) {
  CLI::App app("sluice-bench: throughput of a running sluice-broker", "sluice-bench");
  std::string broker;
  std::string http_endpoint = kDefaultHttpEndpoint;
  WorkloadOptions o;
  o.queue = "bench";
  const std::map<std::string, Workload> workloads{
      {"send", Workload::kSend}, {"receive", Workload::kReceive}, {"mixed", Workload::kMixed}};
  const std::map<std::string, Protocol> protocols{
      {"zmq", Protocol::kZmq}, {"json", Protocol::kJson}, {"query", Protocol::kQuery}};
  app.add_option("--protocol", o.protocol,
                 "zmq: the ZeroMQ protocol at --broker; json, query: SQS's JSON 1.0 or query "
                 "protocol at --http-endpoint, one kept-alive connection per thread")
      ->transform(CLI::CheckedTransformer(protocols, CLI::ignore_case))
      ->default_str("zmq");
  app.add_option("--broker", broker,
                 "The broker, tcp://HOST:PORT (default: $SLUICE_BROKER, else " +
                     std::string(kDefaultBrokerEndpoint) + ")");
  app.add_option("--http-endpoint", http_endpoint,
                 "The SQS HTTP endpoint, http://HOST:PORT, for --protocol json or query")
      ->capture_default_str();
  app.add_option("--workload", o.workload,
                 "send; receive (+delete, from a filled queue); mixed (half the threads send, "
                 "half receive+delete)")
      ->required()
      ->transform(CLI::CheckedTransformer(workloads, CLI::ignore_case));
  app.add_option("--threads", o.threads, "client threads, each with its own connection")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--batch", o.batch,
                 "messages per request, 1-10; 1 uses SendMessage, DeleteMessage")
      ->check(CLI::Range(1, 10))
      ->capture_default_str();
  app.add_option("--messages", o.messages,
                 "messages in total: sent (send), deleted (receive, mixed)")
      ->check(CLI::Range(int64_t{1}, int64_t{1'000'000'000}))
      ->capture_default_str();
  app.add_option("--body-bytes", o.body_bytes, "bytes per message body")
      ->check(CLI::Range(1, 256 * 1024))
      ->capture_default_str();
  app.add_option("--queue", o.queue, "queue name; created when missing")->capture_default_str();
  app.add_option("--max-seconds", o.max_seconds, "the run fails when it takes longer")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  CurveFlags curve_flags;
  AddCurveFlags(&app, &curve_flags);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }
  auto curve = ResolveCurveFlags(curve_flags);
  if (!curve.ok()) {
    std::fprintf(stderr, "sluice-bench: %s\n", curve.status().detail().c_str());
    return kExitUsage;
  }
  o.zmq_options.curve = *curve;
  if (o.workload == Workload::kMixed && o.threads < 2) {
    std::fprintf(stderr, "sluice-bench: --workload mixed needs --threads 2 or more\n");
    return kExitUsage;
  }
  o.endpoint = o.protocol == Protocol::kZmq ? ResolveBrokerEndpoint(broker) : http_endpoint;

  if (Status s = EnsureQueue(o); !s.ok()) {
    std::fprintf(stderr, "sluice-bench: cannot create queue %s: %s\n", o.queue.c_str(),
                 s.ToString().c_str());
    return kExitError;
  }
  const WorkloadResult r = RunWorkload(o);
  PrintResult(o, r);
  if (!r.error.empty()) {
    std::fprintf(stderr, "sluice-bench: %s\n", r.error.c_str());
    return kExitError;
  }
  return 0;
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) { return sluice::bench::Main(argc, argv); }
