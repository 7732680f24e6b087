#include "time_policy.h"

#include <fmt/format.h>

#include "policy_level.h"
#include "traffic_policy.h"

namespace vmpower {

Checked<std::unique_ptr<RunningPolicy>> TimePolicy::start(const HostPolicy& policy,
                                                          const HostPolicyEdges& edges) {
    if (policy.traffic_hours.any() && edges.traffic == nullptr)
        return Verdict::refused(kNoTrafficSource);
    if (edges.wall == nullptr) return Verdict::refused("TIME needs the host's clock");
    return std::unique_ptr<RunningPolicy>(std::make_unique<TimePolicy>(policy, *edges.wall));
}

PolicyDecision TimePolicy::decide() const {
    const int hour = localHour(wall_.now());
    const std::string at = fmt::format("hour {} ", hour);
    switch (hourUse(policy_, hour)) {
        case HourUse::Busy:
            return {PolicyLevel::Max, at + "is busy: max"};
        case HourUse::Quiet:
            return {PolicyLevel::Min, at + "is quiet: min"};
        case HourUse::Traffic:
            return rate_.decide(at + "uses traffic, ", policy_.traffic);
        case HourUse::Unlisted:
            break;
    }
    return {std::nullopt, at + "is in no list: holds nothing"};
}

}  // namespace vmpower
