#include "retry_scheduler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <utility>

#include "log.h"

namespace vmpower {

RetryScheduler::RetryScheduler(const Clock& clock) : clock_(clock), timer_([this] { runDue(); }) {}

RetryScheduler::Call::Call(Call&& o) noexcept
    : owner_(std::exchange(o.owner_, nullptr)), id_(std::exchange(o.id_, 0)) {}

RetryScheduler::Call& RetryScheduler::Call::operator=(Call&& o) noexcept {
    if (this != &o) {
        reset();
        owner_ = std::exchange(o.owner_, nullptr);
        id_ = std::exchange(o.id_, 0);
    }
    return *this;
}

void RetryScheduler::Call::reset() {
    if (owner_) owner_->cancel(id_);
    owner_ = nullptr;
    id_ = 0;
}

bool RetryScheduler::Call::pending() const {
    return owner_ && owner_->by_id_.contains(id_);
}

RetryScheduler::Call RetryScheduler::schedule(std::chrono::milliseconds delay,
                                              std::function<void()> fn) {
    Id id = next_++;
    auto pos = by_deadline_.emplace(clock_.now() + delay, id);
    by_id_.emplace(id, Entry{pos, std::move(fn)});
    rearm();
    return Call(this, id);
}

void RetryScheduler::cancel(Id id) {
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return;
    // Destroyed after the maps are consistent again: what the function
    // holds may schedule on its way out (a control answer owed, say).
    std::function<void()> gone = std::move(it->second.fn);
    by_deadline_.erase(it->second.pos);
    by_id_.erase(it);
    rearm();
}

void RetryScheduler::runDue() {
    // A bounded batch per loop turn: when thousands of channels fall due at
    // once (libvirtd restart, host reboot), guests' requests still get turns
    // in between; the rest run on the next turn (re-armed at 0 ms below).
    constexpr int kMaxPerTurn = 32;
    auto now = clock_.now();
    for (int ran = 0;
         ran < kMaxPerTurn && !by_deadline_.empty() && by_deadline_.begin()->first <= now; ++ran) {
        Id id = by_deadline_.begin()->second;
        by_deadline_.erase(by_deadline_.begin());
        auto it = by_id_.find(id);
        std::function<void()> fn = std::move(it->second.fn);
        by_id_.erase(it);
        // A loop callback: one entry's failure is logged and never stops
        // the others (libvirt's reconnect among them) from running.
        try {
            if (fn) fn();  // may schedule or cancel others
        } catch (const std::exception& e) {
            LOG(Agent).error("deferred work {} failed: {}", id, e.what());
        } catch (...) {
            LOG(Agent).error("deferred work {} failed", id);
        }
    }
    rearm();
}

void RetryScheduler::rearm() {
    if (by_deadline_.empty()) {
        timer_.cancel();
        return;
    }
    auto delay =
        std::chrono::ceil<std::chrono::milliseconds>(by_deadline_.begin()->first - clock_.now());
    timer_.arm(std::max(delay, std::chrono::milliseconds(0)));
}

}  // namespace vmpower
