#pragma once
// TRAFFIC: the packets per second of the VM's selected interfaces against
// its thresholds, sampled on every traffic interval.

#include "running_policy.h"
#include "traffic_rate.h"

namespace vmpower {

class TrafficPolicy final : public RunningPolicy {
  public:
    // Refused without a source of interface statistics.
    static Checked<std::unique_ptr<RunningPolicy>> start(const HostPolicy& policy,
                                                         const HostPolicyEdges& edges);
    explicit TrafficPolicy(const HostPolicy& policy)
        : thresholds_(policy.traffic), rate_(policy.macs) {}

    PolicyDecision decide() const override { return rate_.decide("", thresholds_); }
    PolicyWakeups needs() const override { return {.traffic = true}; }
    bool dueAt(const PolicyWakeups& tick) const override { return tick.traffic; }
    void takeTraffic(const std::vector<InterfaceCounters>* counters, Clock::TimePoint at) override {
        rate_.take(counters, at);
    }

  private:
    TrafficThresholds thresholds_;
    TrafficRate rate_;
};

// Why a policy that measures traffic cannot run here.
inline constexpr const char* kNoTrafficSource =
    "TRAFFIC needs interface statistics and this agent has no source for them";

}  // namespace vmpower
