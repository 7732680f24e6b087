#pragma once
// BRANCH_RATIO: branch misses / branches of the VM's vCPU threads, read on
// every branch interval; above the threshold -> max, at or below -> min,
// with hysteresis (policy_level.h).

#include <string>

#include "policy_level.h"
#include "running_policy.h"

namespace vmpower {

class BranchRatioPolicy final : public RunningPolicy {
  public:
    // Opens the counters on the policy's vCPU threads; refused without a
    // source, or with the source's reason.
    static Checked<std::unique_ptr<RunningPolicy>> start(const HostPolicy& policy,
                                                         const GuestIdentity& guest,
                                                         const HostPolicyEdges& edges,
                                                         const HostPolicySettings& settings);
    BranchRatioPolicy(BranchCounterSource& counters, std::string uuid,
                      const HostPolicySettings& settings)
        : counters_(counters),
          uuid_(std::move(uuid)),
          threshold_(settings.branch_ratio_threshold),
          hysteresis_(settings.branch_ratio_threshold, settings.branch_hysteresis_samples) {}

    PolicyDecision decide() const override;
    PolicyWakeups needs() const override { return {.branches = true}; }
    bool dueAt(const PolicyWakeups& tick) const override { return tick.branches; }
    void readBranches() override;
    void stop() override { counters_.close(uuid_); }

  private:
    BranchCounterSource& counters_;
    std::string uuid_;
    double threshold_;
    BranchHysteresis hysteresis_;
    std::optional<BranchCounts> counts_;  // the last read
    std::optional<double> ratio_;         // since the read before
};

}  // namespace vmpower
