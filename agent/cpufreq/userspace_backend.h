#pragma once
// Drivers with the `userspace` governor (acpi-cpufreq, intel_cpufreq =
// intel_pstate in passive mode): the governor is switched to `userspace`
// on first use and the frequency written to scaling_setspeed, which the
// kernel accepts only under that governor.

#include "sysfs_backend.h"

namespace vmpower {

class UserspaceBackend final : public SysfsBackend {
  public:
    UserspaceBackend(const Sysfs& sysfs, std::string driver, std::uint32_t step_khz);

    Verdict usable(const CpufreqPolicy& policy) const override;
    std::vector<std::string> touchedFiles(const CpufreqPolicy& policy) const override;
    void prepare(const CpufreqPolicy& policy) override;
    void setFrequency(const CpufreqPolicy& policy, std::uint32_t khz) override;
    // scaling_setspeed under the userspace governor, else scaling_max_freq.
    std::optional<std::uint32_t> foundCeiling(const CpufreqPolicy& policy) const override;
};

}  // namespace vmpower
