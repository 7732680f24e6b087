#pragma once
// Deferred work (channel reconnect backoff, libvirt reconnect, coalesced
// writes, idle timeouts) on ONE loop timer armed for the earliest deadline: a
// timer per channel would make every turn cost O(channels).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <unordered_map>

#include "clock.h"
#include "event_loop.h"

namespace vmpower {

class RetryScheduler {
  public:
    using Id = std::uint64_t;

    // One scheduled call; cancelled when destroyed or reset (nothing happens
    // when it already ran). Must not outlive its scheduler.
    class Call {
      public:
        Call() = default;
        Call(Call&& o) noexcept;
        Call& operator=(Call&& o) noexcept;
        Call(const Call&) = delete;
        Call& operator=(const Call&) = delete;
        ~Call() { reset(); }
        void reset();
        // Scheduled and not yet run (false inside its own body).
        bool pending() const;

      private:
        friend class RetryScheduler;
        Call(RetryScheduler* owner, Id id) : owner_(owner), id_(id) {}
        RetryScheduler* owner_ = nullptr;
        Id id_ = 0;
    };

    explicit RetryScheduler(const Clock& clock);

    [[nodiscard]] Call schedule(std::chrono::milliseconds delay, std::function<void()> fn);
    std::size_t pending() const { return by_id_.size(); }
    const Clock& clock() const { return clock_; }

  private:
    void cancel(Id id);  // unknown / already run ids are ignored
    void runDue();
    void rearm();

    const Clock& clock_;
    EventLoop::Timer timer_;
    std::multimap<Clock::TimePoint, Id> by_deadline_;
    struct Entry {
        std::multimap<Clock::TimePoint, Id>::iterator pos;
        std::function<void()> fn;
    };
    std::unordered_map<Id, Entry> by_id_;
    Id next_ = 1;
};

}  // namespace vmpower
