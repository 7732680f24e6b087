#pragma once
// The frequencies a request can move between on one policy: the driver's
// scaling_available_frequencies, or every step_khz from cpuinfo_min_freq
// up to cpuinfo_max_freq (both ends included).

#include <cstdint>
#include <vector>

namespace vmpower {

class Sysfs;
struct CpufreqPolicy;

// Used when the driver lists no frequencies and no step is configured.
inline constexpr std::uint32_t kDefaultStepKhz = 100000;

// step_khz == 0: the available list if the driver has one, else
// kDefaultStepKhz. step_khz > 0: always the configured step. Ascending.
std::vector<std::uint32_t> frequencySteps(const Sysfs& sysfs, const CpufreqPolicy& policy,
                                          std::uint32_t step_khz);

// Steps from min to max (inclusive) every step_khz; [min] when min >= max.
std::vector<std::uint32_t> linearSteps(std::uint32_t min_khz, std::uint32_t max_khz,
                                       std::uint32_t step_khz);

}  // namespace vmpower
