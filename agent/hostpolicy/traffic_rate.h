#pragma once
// Packets per second of a VM's selected interfaces, from the running totals
// of consecutive traffic samples: what TRAFFIC and TIME's traffic hours
// decide by.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "clock.h"
#include "host_policy.h"
#include "policy_sources.h"
#include "running_policy.h"

namespace vmpower {

class TrafficRate {
  public:
    // `macs` select the interfaces (HostPolicy::macs); empty: all.
    explicit TrafficRate(std::vector<std::uint64_t> macs) : macs_(std::move(macs)) {}

    // One sample's counters of the VM (null: not in the answer). No
    // selected interface forgets the rate; a rate needs two samples.
    void take(const std::vector<InterfaceCounters>* counters, Clock::TimePoint at);
    std::optional<double> packetsPerSecond() const { return pps_; }

    // The level for the rate by `thresholds`, its words after `prefix`;
    // none until there is a rate.
    PolicyDecision decide(const std::string& prefix, const TrafficThresholds& thresholds) const;

  private:
    bool selected(const InterfaceCounters& c) const;

    std::vector<std::uint64_t> macs_;
    std::optional<std::uint64_t> rx_total_;  // the last sample's total
    Clock::TimePoint rx_at_{};               // and when it was taken
    std::optional<double> pps_;
};

}  // namespace vmpower
