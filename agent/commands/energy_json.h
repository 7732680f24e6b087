#pragma once
// The energy accounting as the control socket shows it: the `energy`
// command, and the energy fields of `show-vm`.

#include <nlohmann/json.hpp>
#include <string_view>

namespace vmpower {

class EnergySampler;

// {"available", "reason" | "interval_ms", "samples", "idle" (agent.energy_idle),
//  "packages": [{energy_uj, host_uj, vms_uj, idle_uj, ...}],
//  "vms": [{energy_uj, idle_uj, vcpu_uj, ...}]}; integers in µJ;
// `sampler` nullptr: energy accounting is not part of this agent.
nlohmann::json energyJson(const EnergySampler* sampler);

// Adds energy_uj and power_w to a show-vm answer: numbers, or null with
// "energy" saying why (unavailable, not sampled yet) — never a made-up 0.
void addVmEnergy(nlohmann::json& vm, const EnergySampler* sampler, std::string_view uuid);

}  // namespace vmpower
