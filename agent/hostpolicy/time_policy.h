#pragma once
// TIME: the host's local hour decides: busy -> max, quiet -> min, a traffic
// hour as TRAFFIC decides, any other hour holds nothing. Decided again at
// every hour change, and on every traffic sample.

#include "running_policy.h"
#include "traffic_rate.h"

namespace vmpower {

class TimePolicy final : public RunningPolicy {
  public:
    // Refused without the host's clock, or with traffic hours and no source
    // of interface statistics.
    static Checked<std::unique_ptr<RunningPolicy>> start(const HostPolicy& policy,
                                                         const HostPolicyEdges& edges);
    TimePolicy(const HostPolicy& policy, const WallClock& wall)
        : policy_(policy), wall_(wall), rate_(policy.macs) {}

    PolicyDecision decide() const override;
    PolicyWakeups needs() const override {
        return {.hour = true, .traffic = policy_.traffic_hours.any()};
    }
    bool dueAt(const PolicyWakeups& tick) const override { return tick.hour || tick.traffic; }
    void takeTraffic(const std::vector<InterfaceCounters>* counters, Clock::TimePoint at) override {
        rate_.take(counters, at);
    }

  private:
    HostPolicy policy_;  // its hour lists and traffic thresholds
    const WallClock& wall_;
    TrafficRate rate_;
};

}  // namespace vmpower
