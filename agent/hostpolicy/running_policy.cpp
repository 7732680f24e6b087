#include "running_policy.h"

#include "branch_ratio_policy.h"
#include "time_policy.h"
#include "traffic_policy.h"
#include "workload_policy.h"

namespace vmpower {

// The one place that maps a policy's type to its class.
Checked<std::unique_ptr<RunningPolicy>> startPolicy(const HostPolicy& policy,
                                                    const GuestIdentity& guest,
                                                    const HostPolicyEdges& edges,
                                                    const HostPolicySettings& settings) {
    switch (policy.type) {
        case HostPolicyType::Time:
            return TimePolicy::start(policy, edges);
        case HostPolicyType::Traffic:
            return TrafficPolicy::start(policy, edges);
        case HostPolicyType::BranchRatio:
            return BranchRatioPolicy::start(policy, guest, edges, settings);
        case HostPolicyType::Workload:
            break;
    }
    return std::unique_ptr<RunningPolicy>(std::make_unique<WorkloadPolicy>(policy.workload));
}

}  // namespace vmpower
