#pragma once
// Where each policy type puts a VM's vCPUs, as pure functions of what was
// measured (docs/policy.md, "Host policies"). nullopt: the policy holds
// nothing now, so the vCPUs run as the VM's own requests say.

#include <optional>

#include "host_policy.h"

namespace vmpower {

// What TIME does at `hour`: busy wins over quiet, quiet over traffic.
enum class HourUse { Busy, Quiet, Traffic, Unlisted };
HourUse hourUse(const HostPolicy& policy, int hour);

PolicyLevel workloadLevel(Workload w);

// DPDK's bands: at or above max_pps -> max, at or above middle_pps ->
// middle, below -> min.
PolicyLevel trafficLevel(double packets_per_second, const TrafficThresholds& t);

// BRANCH_RATIO with hysteresis: the level changes only after `samples`
// consecutive samples on the other side of the threshold (above: max,
// at or below: min), so a ratio hovering at the threshold does not flap.
class BranchHysteresis {
  public:
    BranchHysteresis(double threshold, unsigned samples)
        : threshold_(threshold), samples_(samples) {}
    PolicyLevel feed(double ratio);
    PolicyLevel level() const { return level_; }

  private:
    double threshold_;
    unsigned samples_;
    PolicyLevel level_ = PolicyLevel::Min;
    unsigned streak_ = 0;
};

}  // namespace vmpower
