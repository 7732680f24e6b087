#pragma once
// Deferred work (channel reconnect backoff, libvirt reconnect) on ONE libvirt
// timeout armed for the earliest deadline: libvirt's default loop scans all
// its timeouts every turn, so a timeout per channel would make every turn
// cost O(channels).

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
    explicit RetryScheduler(const Clock& clock);

    Id schedule(std::chrono::milliseconds delay, std::function<void()> fn);
    void cancel(Id id);  // unknown / already run ids are ignored
    std::size_t pending() const { return by_id_.size(); }
    const Clock& clock() const { return clock_; }

  private:
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
