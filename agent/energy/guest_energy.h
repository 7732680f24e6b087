#pragma once
// What a guest may learn of its own energy: its VM's reading held for a
// period (agent.energy_guest_period, default 10 s), not the sampler's reading
// of the last interval. A guest that knows its own CPU time could otherwise
// infer its package's whole power (neighbours and host included) from its
// share at the sampling interval (docs/energy.md, "What a guest can infer").
//
// Each VM's reading changes at most once per period: at the first sample a
// period after the VM's last published reading (the sampler's clock, not the
// guest's queries, decides when), and its watts are the average over that
// whole span. A VM seen for the first time, or a new run of it, is published
// at once (its own energy since it started, averaged).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "clock.h"
#include "energy_source.h"

namespace vmpower {

class GuestEnergyGate {
  public:
    explicit GuestEnergyGate(std::chrono::milliseconds period) : period_(period) {}

    // After each sample: the live readings of every VM (VMs absent are
    // forgotten).
    void publish(Clock::TimePoint now,
                 const std::unordered_map<std::string, VmEnergyReading>& live);
    // The reading the guest is told; nullopt before its VM's first.
    std::optional<VmEnergyReading> reading(std::string_view uuid) const;

  private:
    struct Published {
        VmEnergyReading reading;
        Clock::TimePoint at;
    };
    std::chrono::milliseconds period_;
    std::unordered_map<std::string, Published> published_;
};

}  // namespace vmpower
