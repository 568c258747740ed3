#include "broker/server/answer_memory.h"

#include <cstdlib>
#include <new>

namespace sluice {
namespace {

// What a frame's free function needs: who to take its bytes off.
struct HeldFrame {
  std::shared_ptr<AnswerMemory::ClientCounts> client;
  int64_t size;
};

void FreeHeldFrame(void* data, void* hint) {
  auto* held = static_cast<HeldFrame*>(hint);
  held->client->bytes.fetch_sub(held->size, std::memory_order_relaxed);
  held->client->all->total.fetch_sub(held->size, std::memory_order_relaxed);
  delete held;
  std::free(data);
}

}  // namespace

AnswerMemory::AnswerMemory(int64_t cap_bytes)
    : cap_(cap_bytes), counts_(std::make_shared<Counts>()) {}

zmq::message_t AnswerMemory::NewFrame(const std::string& identity, size_t size) {
  auto& client = clients_[identity];
  if (client == nullptr) {
    client = std::make_shared<ClientCounts>();
    client->all = counts_;
  }
  // ZeroMQ refuses a null buffer, even an empty one.
  void* data = std::malloc(size == 0 ? 1 : size);
  if (data == nullptr) throw std::bad_alloc();
  const auto bytes = static_cast<int64_t>(size);
  client->bytes.fetch_add(bytes, std::memory_order_relaxed);
  counts_->total.fetch_add(bytes, std::memory_order_relaxed);
  return zmq::message_t(data, size, FreeHeldFrame, new HeldFrame{client, bytes});
}

bool AnswerMemory::OverCapFor(const std::string& identity) const {
  if (total() <= cap_) return false;
  auto it = clients_.find(identity);
  return it != clients_.end() && it->second->bytes.load(std::memory_order_relaxed) > 0;
}

int64_t AnswerMemory::total() const { return counts_->total.load(std::memory_order_relaxed); }

void AnswerMemory::ForgetIdleClients() {
  std::erase_if(clients_, [](const auto& entry) {
    return entry.second.use_count() == 1 && entry.second->bytes.load() == 0;
  });
}

}  // namespace sluice
