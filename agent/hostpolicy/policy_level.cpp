#include "policy_level.h"

namespace vmpower {

HourUse hourUse(const HostPolicy& policy, int hour) {
    if (hour < 0 || hour > 23) return HourUse::Unlisted;
    const auto h = static_cast<std::size_t>(hour);
    if (policy.busy_hours.test(h)) return HourUse::Busy;
    if (policy.quiet_hours.test(h)) return HourUse::Quiet;
    if (policy.traffic_hours.test(h)) return HourUse::Traffic;
    return HourUse::Unlisted;
}

PolicyLevel workloadLevel(Workload w) {
    switch (w) {
        case Workload::High:
            return PolicyLevel::Max;
        case Workload::Medium:
            return PolicyLevel::Middle;
        case Workload::Low:
            break;
    }
    return PolicyLevel::Min;
}

PolicyLevel trafficLevel(double packets_per_second, const TrafficThresholds& t) {
    if (packets_per_second >= t.max_pps) return PolicyLevel::Max;
    if (packets_per_second >= t.middle_pps) return PolicyLevel::Middle;
    return PolicyLevel::Min;
}

PolicyLevel BranchHysteresis::feed(double ratio) {
    const PolicyLevel side = ratio > threshold_ ? PolicyLevel::Max : PolicyLevel::Min;
    if (side == level_) {
        streak_ = 0;
        return level_;
    }
    if (++streak_ >= samples_) {
        level_ = side;
        streak_ = 0;
    }
    return level_;
}

}  // namespace vmpower
