#include "traffic_policy.h"

namespace vmpower {

Checked<std::unique_ptr<RunningPolicy>> TrafficPolicy::start(const HostPolicy& policy,
                                                             const HostPolicyEdges& edges) {
    if (edges.traffic == nullptr) return Verdict::refused(kNoTrafficSource);
    return std::unique_ptr<RunningPolicy>(std::make_unique<TrafficPolicy>(policy));
}

}  // namespace vmpower
