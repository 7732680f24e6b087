#pragma once
// Drivers without `userspace` (intel_pstate and amd-pstate in active mode)
// and cppc_cpufreq: a frequency is held by pinning scaling_min_freq and
// scaling_max_freq to it. The governor is left alone (with min == max it
// has nothing to choose).
//
// min <= max holds after every single write: older kernels refuse a write
// that crosses the other limit, newer ones clamp it silently. Going down
// the min is written first, going up the max first.

#include "sysfs_backend.h"

namespace vmpower {

class MinMaxBackend final : public SysfsBackend {
  public:
    MinMaxBackend(const Sysfs& sysfs, std::string driver, std::uint32_t step_khz);

    Verdict usable(const CpufreqPolicy& policy) const override;
    std::vector<std::string> touchedFiles(const CpufreqPolicy& policy) const override;
    void prepare(const CpufreqPolicy&) override {}
    void setFrequency(const CpufreqPolicy& policy, std::uint32_t khz) override;
    // scaling_max_freq: a hold pins min = max, so only below it is slower.
    std::optional<std::uint32_t> foundCeiling(const CpufreqPolicy& policy) const override;
};

// Writes a (min, max) pair in an order that keeps min <= max after each
// write, given the current values. Shared with restore.
void writeMinMaxSafely(const Sysfs& sysfs, std::string_view min_file, std::string_view max_file,
                       std::string_view min_value, std::string_view max_value);

}  // namespace vmpower
