#include "traffic_rate.h"

#include <fmt/format.h>

#include <algorithm>

#include "policy_level.h"

namespace vmpower {

bool TrafficRate::selected(const InterfaceCounters& c) const {
    return macs_.empty() || (c.mac && std::find(macs_.begin(), macs_.end(), *c.mac) != macs_.end());
}

void TrafficRate::take(const std::vector<InterfaceCounters>* counters, Clock::TimePoint at) {
    std::uint64_t total = 0;
    bool any = false;
    if (counters != nullptr) {
        for (const InterfaceCounters& c : *counters) {
            if (!selected(c)) continue;
            total += c.rx_packets;
            any = true;
        }
    }
    if (!any) {
        pps_.reset();
        rx_total_.reset();
        return;
    }
    const double secs = std::chrono::duration<double>(at - rx_at_).count();
    if (rx_total_ && total >= *rx_total_ && secs > 0)
        pps_ = static_cast<double>(total - *rx_total_) / secs;
    rx_total_ = total;
    rx_at_ = at;
}

PolicyDecision TrafficRate::decide(const std::string& prefix,
                                   const TrafficThresholds& thresholds) const {
    if (!pps_) return {std::nullopt, prefix + "no traffic measured yet: holds nothing"};
    const PolicyLevel l = trafficLevel(*pps_, thresholds);
    return {l, prefix + fmt::format("{:.0f} packets/s: {}", *pps_, nameIn(kPolicyLevelNames, l))};
}

}  // namespace vmpower
