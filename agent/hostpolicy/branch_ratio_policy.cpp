#include "branch_ratio_policy.h"

#include <fmt/format.h>

namespace vmpower {

Checked<std::unique_ptr<RunningPolicy>> BranchRatioPolicy::start(
    const HostPolicy& policy, const GuestIdentity& guest, const HostPolicyEdges& edges,
    const HostPolicySettings& settings) {
    if (edges.branches == nullptr)
        return Verdict::refused("BRANCH_RATIO needs branch counters (none here)");
    const Verdict opened = edges.branches->open(guest.uuid, guest.name, policy.vcpus);
    if (!opened) return Verdict::refused("BRANCH_RATIO: " + opened.reason());
    return std::unique_ptr<RunningPolicy>(
        std::make_unique<BranchRatioPolicy>(*edges.branches, guest.uuid, settings));
}

void BranchRatioPolicy::readBranches() {
    const std::optional<BranchCounts> c = counters_.read(uuid_);
    if (c && counts_ && c->branches > counts_->branches && c->misses >= counts_->misses) {
        ratio_ = static_cast<double>(c->misses - counts_->misses) /
                 static_cast<double>(c->branches - counts_->branches);
        hysteresis_.feed(*ratio_);
    }
    counts_ = c;
}

PolicyDecision BranchRatioPolicy::decide() const {
    if (!ratio_) return {std::nullopt, "no branch ratio measured yet: holds nothing"};
    return {hysteresis_.level(),
            fmt::format("branch misses/branches {:.4f} (threshold {}): {}", *ratio_, threshold_,
                        nameIn(kPolicyLevelNames, hysteresis_.level()))};
}

}  // namespace vmpower
