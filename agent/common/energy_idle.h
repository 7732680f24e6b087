#pragma once
// agent.energy_idle: who is given the part of a package's energy that no VM
// ran for (idle power, the host's own work, other processes). Read by the
// configuration, used by the energy accounting (docs/energy.md "Idle energy").

#include <optional>
#include <string_view>

namespace vmpower {

enum class EnergyIdle {
    Host,   // the host keeps it: a VM pays for what it ran
    Vcpus,  // shared among the VMs by their vCPU threads on the package
};

inline constexpr std::string_view energyIdleName(EnergyIdle idle) {
    return idle == EnergyIdle::Vcpus ? "vcpus" : "host";
}

inline std::optional<EnergyIdle> parseEnergyIdle(std::string_view text) {
    if (text == energyIdleName(EnergyIdle::Host)) return EnergyIdle::Host;
    if (text == energyIdleName(EnergyIdle::Vcpus)) return EnergyIdle::Vcpus;
    return std::nullopt;
}

}  // namespace vmpower
