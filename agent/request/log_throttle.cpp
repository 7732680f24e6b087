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

std::string suppressedNote(std::uint64_t suppressed) {
    if (suppressed == 0) return {};
    return " (" + std::to_string(suppressed) + " similar messages suppressed)";
}

bool VmLogThrottles::allow(std::string_view uuid, Clock::TimePoint now, std::uint64_t& suppressed) {
    auto it = throttles_.find(uuid);
    if (it == throttles_.end()) it = throttles_.emplace(std::string(uuid), LogThrottle{}).first;
    return it->second.allow(now, suppressed);
}

void VmLogThrottles::forget(std::string_view uuid) {
    if (auto it = throttles_.find(uuid); it != throttles_.end()) throttles_.erase(it);
}

}  // namespace vmpower
