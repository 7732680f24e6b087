#pragma once
// Picks the backend for a scaling_driver name (the tree's, or the
// operator's override). Throws CpufreqError for a driver we cannot drive.

#include <cstdint>
#include <memory>
#include <string_view>

#include "cpufreq_backend.h"

namespace vmpower {

class Sysfs;

// Accepted names: acpi-cpufreq, intel_cpufreq (userspace governor);
// intel_pstate, amd-pstate, amd-pstate-epp, cppc_cpufreq (min/max).
std::unique_ptr<CpufreqBackend> makeBackend(std::string_view driver, const Sysfs& sysfs,
                                            std::uint32_t step_khz);

}  // namespace vmpower
