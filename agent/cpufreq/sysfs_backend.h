#pragma once
// What every cpufreq driver's backend does the same way: read the current
// frequency and the steps a request may choose, and find the turbo switch.
// The backends differ only in how they hold a frequency (userspace_backend.h,
// min_max_backend.h).

#include <cstdint>
#include <initializer_list>
#include <string>

#include "cpufreq_backend.h"

namespace vmpower {

class Sysfs;

class SysfsBackend : public CpufreqBackend {
  public:
    std::string_view name() const final { return driver_; }
    std::optional<std::uint32_t> currentFrequency(const CpufreqPolicy& policy) const final;
    std::vector<std::uint32_t> frequencySteps(const CpufreqPolicy& policy) const final;
    std::optional<TurboKnob> turboKnob(const CpufreqPolicy& policy) const final;

  protected:
    SysfsBackend(const Sysfs& sysfs, std::string driver, std::uint32_t step_khz)
        : sysfs_(sysfs), driver_(std::move(driver)), step_khz_(step_khz) {}
    // Refused with "<file> is missing" for the first of `files` the policy
    // lacks.
    Verdict allPresent(const CpufreqPolicy& policy, std::initializer_list<const char*> files) const;
    // A policy file as kHz; nullopt when missing or not a number.
    std::optional<std::uint32_t> readKhz(const CpufreqPolicy& policy, const char* file) const;

    const Sysfs& sysfs_;

  private:
    std::string driver_;
    std::uint32_t step_khz_;
};

}  // namespace vmpower
