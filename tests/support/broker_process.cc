#include "tests/support/broker_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sstream>
#include <stdexcept>

#include "client/client.h"

namespace sluice::testing {

std::string BrokerBinary() { return SLUICE_BROKER_BIN; }
std::string ProducerBinary() { return SLUICE_PRODUCER_BIN; }
std::string WorkerBinary() { return SLUICE_WORKER_BIN; }

std::unique_ptr<Subprocess> StartBroker(const std::string& endpoint, const std::string& data_dir,
                                        const std::vector<std::string>& extra_args,
                                        int metrics_port) {
  std::vector<std::string> argv = {
      BrokerBinary(), "--listen", endpoint, "--metrics-listen",
      "127.0.0.1:" + std::to_string(metrics_port != 0 ? metrics_port : FreeTcpPort()), "--data-dir",
      data_dir,
      // A port of the system's choosing, so that brokers of tests running
      // at once do not meet on the default one.
      "--http-listen", "127.0.0.1:0"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  auto process = std::make_unique<Subprocess>(argv);
  Client probe(endpoint, ClientOptions{.call_timeout_ms = 200});
  const bool ready =
      WaitFor([&] { return process->Running() && probe.ListQueues(pb::ListQueuesRequest()).ok(); },
              std::chrono::seconds(30));
  if (!ready) {
    throw std::runtime_error("sluice-broker did not become ready; stderr:\n" + process->Stderr());
  }
  return process;
}

BrokerProcess::BrokerProcess(Options options) {
  endpoint_ = options.tcp ? "tcp://127.0.0.1:" + std::to_string(FreeTcpPort())
                          : "ipc://" + dir_.path() + "/broker.sock";
  metrics_port_ = FreeTcpPort();
  process_ = StartBroker(endpoint_, dir_.path() + "/data", options.extra_args, metrics_port_);
}

std::string BrokerProcess::ScrapeMetrics() const { return HttpGet(metrics_port_, "/metrics"); }

std::string HttpGet(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "";
  }
  const std::string request =
      "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return "";
  }
  std::string response;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) response.append(buf, n);
  ::close(fd);
  const size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

double MetricValue(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

}  // namespace sluice::testing
