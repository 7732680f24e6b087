#pragma once
// Keeps a hostile guest from flooding the log (journald drops a flooding
// unit's other messages): a VM's refusals, and its host-policy changes, are
// logged at most once per interval per VM — not per channel, a domain may
// have 64 —, and the next line logged says how many were held back.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "clock.h"

namespace vmpower {

// How often one VM may put one kind of line in the log.
inline constexpr std::chrono::seconds kLogThrottleInterval{10};

// At most one log line per `interval`; counts the lines it held back.
class LogThrottle {
  public:
    LogThrottle() = default;
    explicit LogThrottle(std::chrono::seconds interval) : interval_(interval) {}
    // True when a line may be logged now; `suppressed` then says how many
    // were held back since the last one.
    bool allow(Clock::TimePoint now, std::uint64_t& suppressed);

  private:
    std::chrono::seconds interval_ = kLogThrottleInterval;
    Clock::TimePoint last_{};
    bool started_ = false;
    std::uint64_t held_ = 0;
};

// What a logged line appends about the ones held back before it:
// "" for none, else " (N similar messages suppressed)".
std::string suppressedNote(std::uint64_t suppressed);

// One LogThrottle per VM, by UUID, for a part that knows VMs by UUID only
// (the host-policy engine). O(log VMs) per line; forget() when the domain
// goes.
class VmLogThrottles {
  public:
    bool allow(std::string_view uuid, Clock::TimePoint now, std::uint64_t& suppressed);
    void forget(std::string_view uuid);
    template <typename Pred>  // Pred(std::string_view uuid): forget that VM
    void forgetIf(Pred gone) {
        std::erase_if(throttles_, [&](const auto& entry) { return gone(entry.first); });
    }
    std::size_t size() const { return throttles_.size(); }

  private:
    std::map<std::string, LogThrottle, std::less<>> throttles_;
};

}  // namespace vmpower
