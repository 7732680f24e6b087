#pragma once
// Drivers with the `userspace` governor (acpi-cpufreq, intel_cpufreq =
// intel_pstate in passive mode): the governor is switched to `userspace`
// on first use and the frequency written to scaling_setspeed, which the
// kernel accepts only under that governor.

#include "cpufreq_backend.h"

namespace vmpower {

class Sysfs;

class UserspaceBackend final : public CpufreqBackend {
  public:
    UserspaceBackend(const Sysfs& sysfs, std::string driver, std::uint32_t step_khz);

    std::string_view name() const override { return driver_; }
    std::optional<std::string> unusable(const CpufreqPolicy& policy) const override;
    std::vector<std::string> touchedFiles(const CpufreqPolicy& policy) const override;
    void prepare(const CpufreqPolicy& policy) override;
    void setFrequency(const CpufreqPolicy& policy, std::uint32_t khz) override;
    std::optional<std::uint32_t> currentFrequency(const CpufreqPolicy& policy) const override;
    std::vector<std::uint32_t> frequencySteps(const CpufreqPolicy& policy) const override;
    std::optional<TurboKnob> turboKnob(const CpufreqPolicy& policy) const override;
    // scaling_setspeed under the userspace governor, else scaling_max_freq.
    std::optional<std::uint32_t> foundCeiling(const CpufreqPolicy& policy) const override;

  private:
    const Sysfs& sysfs_;
    std::string driver_;
    std::uint32_t step_khz_;
};

}  // namespace vmpower
