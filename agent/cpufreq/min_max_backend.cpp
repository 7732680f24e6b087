#include "min_max_backend.h"

#include <fmt/format.h>

#include "cpufreq_error.h"
#include "frequency_steps.h"
#include "sysfs.h"
#include "turbo_knob.h"

namespace vmpower {

void writeMinMaxSafely(const Sysfs& sysfs, std::string_view min_file, std::string_view max_file,
                       std::string_view min_value, std::string_view max_value) {
    auto new_min = parseKhz(min_value);
    if (!new_min)
        throw CpufreqError(fmt::format("{}: refusing to write '{}'", min_file, min_value));
    // New min above the current max: raise the max first. Otherwise the min
    // first (new min <= current max, then new max >= new min).
    if (*new_min > sysfs.readKhz(max_file)) {
        sysfs.write(max_file, max_value);
        sysfs.write(min_file, min_value);
    } else {
        sysfs.write(min_file, min_value);
        sysfs.write(max_file, max_value);
    }
}

MinMaxBackend::MinMaxBackend(const Sysfs& sysfs, std::string driver, std::uint32_t step_khz)
    : SysfsBackend(sysfs, std::move(driver), step_khz) {}

Verdict MinMaxBackend::usable(const CpufreqPolicy& policy) const {
    return allPresent(
        policy, {"scaling_min_freq", "scaling_max_freq", "cpuinfo_min_freq", "cpuinfo_max_freq"});
}

std::vector<std::string> MinMaxBackend::touchedFiles(const CpufreqPolicy& policy) const {
    // The governor is not written; it is recorded because intel_pstate
    // resets its limits on a governor change, so restore must see it.
    return {policy.file("scaling_governor"), policy.file("scaling_min_freq"),
            policy.file("scaling_max_freq")};
}

void MinMaxBackend::setFrequency(const CpufreqPolicy& policy, std::uint32_t khz) {
    const KhzText value(khz);
    writeMinMaxSafely(sysfs_, PolicyFile(policy, "scaling_min_freq"),
                      PolicyFile(policy, "scaling_max_freq"), value, value);
}

std::optional<std::uint32_t> MinMaxBackend::foundCeiling(const CpufreqPolicy& policy) const {
    return readKhz(policy, "scaling_max_freq");
}

}  // namespace vmpower
