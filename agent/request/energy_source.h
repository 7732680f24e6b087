#pragma once
// What the request path may know of a VM's energy: one reading, looked up
// by UUID in constant time (the EnergySampler keeps them ready after each
// sample; nothing is read or computed on the request path).

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "vmpower/protocol.h"

namespace vmpower {

struct VmEnergyReading {
    std::uint64_t energy_uj = 0;   // since the agent began watching the VM
    std::uint64_t watched_ms = 0;  // how long that is (intervals counted)
    std::uint32_t power_mw = 0;    // over the last interval
    std::uint32_t interval_ms = 0;
    bool gap = false;              // continued across an agent restart
    std::uint32_t vcpu_count = 0;  // the VM's; vcpu_uj holds the first 48
    std::array<std::uint64_t, VMPOWER_ENERGY_MAX_VCPUS> vcpu_uj{};
};

class EnergySource {
  public:
    virtual ~EnergySource() = default;
    // nullopt: no energy to tell (no powercap tree, or the VM not sampled yet).
    // The last interval's: for the operator.
    virtual std::optional<VmEnergyReading> reading(std::string_view uuid) const = 0;
    // What the guest is told: the same, changing at most once per
    // agent.energy_guest_period (docs/energy.md, "What a guest can infer").
    virtual std::optional<VmEnergyReading> guestReading(std::string_view uuid) const = 0;
};

}  // namespace vmpower
