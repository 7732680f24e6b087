#include "log_throttle.h"

namespace vmpower {

bool LogThrottle::allow(Clock::TimePoint now, std::uint64_t& suppressed) {
    if (started_ && now - last_ < interval_) {
        ++held_;
        return false;
    }
    started_ = true;
    last_ = now;
    suppressed = held_;
    held_ = 0;
    return true;
}

}  // namespace vmpower
