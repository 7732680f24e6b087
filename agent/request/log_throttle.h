#pragma once
// Keeps a hostile guest from flooding the log: refusals are warned about at
// most once per interval per channel, with a count of the ones held back.

#include <chrono>
#include <cstdint>

#include "clock.h"

namespace vmpower {

// At most one log line per `interval`; counts the lines it held back.
class LogThrottle {
  public:
    explicit LogThrottle(std::chrono::seconds interval) : interval_(interval) {}
    // True when a line may be logged now; `suppressed` then says how many
    // were held back since the last one.
    bool allow(Clock::TimePoint now, std::uint64_t& suppressed);

  private:
    std::chrono::seconds interval_;
    Clock::TimePoint last_{};
    bool started_ = false;
    std::uint64_t held_ = 0;
};

}  // namespace vmpower
