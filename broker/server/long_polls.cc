#include "broker/server/long_polls.h"

#include <algorithm>
#include <utility>

#include "broker/server/dispatch.h"

namespace sluice {
namespace {

// Whether a receive that answered `resp` and may wait `wait_ms` waits.
bool ShouldPark(const pb::Response& resp, Millis wait_ms) {
  if (wait_ms <= 0) return false;
  // Over the in-flight limit a long poll gets no messages, not an error.
  if (resp.has_error()) return resp.error().code() == pb::OVER_LIMIT;
  return resp.receive_message().messages_size() == 0;
}

}  // namespace

bool LongPolls::MaybePark(const Peer& peer, pb::Request* request, const pb::Response& resp,
                          Millis started) {
  if (request->op_case() != pb::Request::kReceiveMessage) return false;
  auto wait = engine_->ReceiveWaitMs(request->receive_message());
  if (!wait.ok() || !ShouldPark(resp, *wait)) return false;
  waiters_[request->receive_message().queue_name()].push_back(
      Waiter{peer, std::move(*request), started + *wait, started});
  return true;
}

void LongPolls::Touch(const std::string& queue) {
  if (waiters_.contains(queue)) touched_.insert(queue);
}

void LongPolls::TouchAll() {
  for (const auto& [queue, ws] : waiters_) touched_.insert(queue);
}

void LongPolls::Serve(Millis now, const Answer& answer) {
  // Wake the queues whose timers or waits ran out.
  for (const auto& [queue, ws] : waiters_) {
    auto wake = engine_->NextWakeup(queue);
    const bool wait_over =
        std::any_of(ws.begin(), ws.end(), [now](const Waiter& w) { return w.deadline <= now; });
    if (wait_over || (wake && *wake <= now)) touched_.insert(queue);
  }
  std::set<std::string> touched;
  touched.swap(touched_);
  for (const std::string& queue : touched) ServeQueue(queue, now, answer);
}

void LongPolls::ServeQueue(const std::string& queue, Millis now, const Answer& answer) {
  auto it = waiters_.find(queue);
  if (it == waiters_.end()) return;
  std::deque<Waiter>& ws = it->second;
  bool queue_empty = false;
  for (auto w = ws.begin(); w != ws.end();) {
    pb::Response resp;
    if (!queue_empty) {
      Dispatch(*engine_, w->request, &resp);
      queue_empty = ShouldPark(resp, 1);
    }
    const bool answered = !queue_empty;
    if (answered || w->deadline <= now) {
      if (!answered) {
        resp.Clear();
        resp.set_request_id(w->request.request_id());
        resp.mutable_receive_message();
      }
      answer(*w, std::move(resp));
      w = ws.erase(w);
    } else {
      ++w;
    }
  }
  if (ws.empty()) waiters_.erase(it);
}

void LongPolls::AnswerAll(const Answer& answer) {
  for (auto& [queue, ws] : waiters_) {
    for (const Waiter& w : ws) {
      pb::Response resp;
      resp.set_request_id(w.request.request_id());
      resp.mutable_receive_message();
      answer(w, std::move(resp));
    }
  }
  waiters_.clear();
}

std::optional<Millis> LongPolls::NextWakeup() const {
  std::optional<Millis> next;
  auto consider = [&next](Millis t) { next = next ? std::min(*next, t) : t; };
  for (const auto& [queue, ws] : waiters_) {
    for (const Waiter& w : ws) consider(w.deadline);
    if (auto wake = engine_->NextWakeup(queue)) consider(*wake);
  }
  return next;
}

size_t LongPolls::size() const {
  size_t n = 0;
  for (const auto& [queue, ws] : waiters_) n += ws.size();
  return n;
}

}  // namespace sluice
