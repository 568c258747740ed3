// sluice-zmq-ceiling: what ZeroMQ alone allows the mixed workload on this
// machine, with no broker work at all. A ROUTER thread answers each request at
// once, as the broker's loop does (every ready frame, then every answer); N
// DEALER client threads in one context, as sluice-bench's, run the mixed
// pattern with the broker's frame sizes: half send 10 x 1 KiB and get a small
// answer; half ask for 10 x 1 KiB, then delete them with a small request and
// get a small answer. Prints one line:
//   threads=8 messages=200000 seconds=1.52 msgs_per_s=131579
// Messages count as in sluice-bench's mixed workload: the run ends when the
// receivers have "deleted" `messages`.
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iterator>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

namespace {

// Sizes of the broker's frames for 1 KiB bodies in batches of ten, near
// enough: a send batch and a receive's answer carry the bodies plus ids,
// digests and handles; the rest is small.
constexpr size_t kBatchFrameBytes = 10 * 1100;
constexpr size_t kSmallFrameBytes = 400;
constexpr char kReceive = 'R';

void Serve(zmq::context_t* context, const std::string& endpoint, std::atomic<bool>* ready) {
  zmq::socket_t socket(*context, zmq::socket_type::router);
  socket.set(zmq::sockopt::linger, 0);
  socket.bind(endpoint);
  ready->store(true);
  const std::string batch(kBatchFrameBytes, 'b'), small(kSmallFrameBytes, 's');
  std::vector<std::pair<std::string, bool>> answers;  // peer, whether it gets a batch
  for (;;) {
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    try {
      zmq::poll(&item, 1, std::chrono::milliseconds(-1));
    } catch (const zmq::error_t&) {
      return;  // the context was shut down
    }
    for (;;) {
      std::vector<zmq::message_t> frames;
      if (!zmq::recv_multipart(socket, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
        break;
      }
      answers.emplace_back(frames[0].to_string(),
                           frames[1].size() == 1 && *frames[1].data<char>() == kReceive);
    }
    for (const auto& [peer, gets_batch] : answers) {
      socket.send(zmq::buffer(peer), zmq::send_flags::sndmore);
      socket.send(zmq::buffer(gets_batch ? batch : small));
    }
    answers.clear();
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("sluice-zmq-ceiling: the mixed workload over ZeroMQ alone", "sluice-zmq-ceiling");
  int threads = 8;
  long messages = 200'000;
  std::string endpoint = "tcp://127.0.0.1:7480";
  app.add_option("--threads", threads, "client threads, half sending, half receiving")
      ->check(CLI::Range(2, 1024))
      ->capture_default_str();
  app.add_option("--messages", messages, "messages to receive and delete")
      ->check(CLI::Range(10L, 1'000'000'000L))
      ->capture_default_str();
  app.add_option("--endpoint", endpoint, "where the server listens")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  zmq::context_t server_context(1);
  std::atomic<bool> ready{false};
  std::thread server(Serve, &server_context, endpoint, &ready);
  while (!ready.load()) std::this_thread::yield();

  zmq::context_t client_context(1);
  std::atomic<long> sent{0}, deleted{0};
  const std::string send_frame(kBatchFrameBytes, 'm'), delete_frame(kSmallFrameBytes, 'd');
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  for (int i = 0; i < threads; ++i) {
    clients.emplace_back([&, sender = i % 2 == 0] {
      zmq::socket_t socket(client_context, zmq::socket_type::dealer);
      socket.set(zmq::sockopt::linger, 0);
      socket.connect(endpoint);
      zmq::message_t answer;
      if (sender) {
        while (sent.fetch_add(10) < messages) {
          socket.send(zmq::buffer(send_frame));
          (void)socket.recv(answer);
        }
        return;
      }
      while (deleted.load() < messages) {
        socket.send(zmq::buffer(&kReceive, 1));
        (void)socket.recv(answer);
        socket.send(zmq::buffer(delete_frame));
        (void)socket.recv(answer);
        deleted.fetch_add(10);
      }
    });
  }
  for (std::thread& t : clients) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("threads=%d messages=%ld seconds=%.3f msgs_per_s=%.0f\n", threads, messages, seconds,
              messages / seconds);
  client_context.shutdown();
  server_context.shutdown();
  server.join();
  return 0;
}
