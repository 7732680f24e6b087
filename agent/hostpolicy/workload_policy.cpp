#include "workload_policy.h"

#include <fmt/format.h>

#include "policy_level.h"

namespace vmpower {

PolicyDecision WorkloadPolicy::decide() const {
    const PolicyLevel l = workloadLevel(workload_);
    return {l, fmt::format("workload {}: {}", nameIn(kWorkloadNames, workload_),
                           nameIn(kPolicyLevelNames, l))};
}

}  // namespace vmpower
