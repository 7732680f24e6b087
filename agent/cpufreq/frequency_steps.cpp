#include "frequency_steps.h"

#include "sysfs.h"
#include "topology.h"

namespace vmpower {

std::vector<std::uint32_t> linearSteps(std::uint32_t min_khz, std::uint32_t max_khz,
                                       std::uint32_t step_khz) {
    std::vector<std::uint32_t> out{min_khz};
    if (step_khz == 0) step_khz = kDefaultStepKhz;
    // 64-bit so the last step cannot wrap near UINT32_MAX.
    for (std::uint64_t f = std::uint64_t{min_khz} + step_khz; f < max_khz; f += step_khz) {
        out.push_back(static_cast<std::uint32_t>(f));
    }
    if (max_khz > min_khz) out.push_back(max_khz);
    return out;
}

std::vector<std::uint32_t> frequencySteps(const Sysfs& sysfs, const CpufreqPolicy& policy,
                                          std::uint32_t step_khz) {
    const std::string list = policy.file("scaling_available_frequencies");
    if (step_khz == 0 && sysfs.exists(list)) {
        auto steps = sysfs.readKhzList(list);
        if (!steps.empty()) return steps;
    }
    return linearSteps(sysfs.readKhz(policy.file("cpuinfo_min_freq")),
                       sysfs.readKhz(policy.file("cpuinfo_max_freq")), step_khz);
}

}  // namespace vmpower
