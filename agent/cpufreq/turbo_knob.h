#pragma once
// Where a policy's turbo switch lives, by driver:
//  - intel_pstate: devices/system/cpu/intel_pstate/no_turbo (global, inverted);
//  - others: the per-policy `boost` file when the kernel has one (newer
//    kernels), else the global devices/system/cpu/cpufreq/boost.
// nullopt when the machine has no turbo switch for this policy.

#include <optional>
#include <string_view>

#include "cpufreq_backend.h"

namespace vmpower {

class Sysfs;

std::optional<TurboKnob> findTurboKnob(const Sysfs& sysfs, const CpufreqPolicy& policy,
                                       std::string_view driver);

}  // namespace vmpower
