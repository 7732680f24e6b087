#include "sysfs_backend.h"

#include "frequency_steps.h"
#include "sysfs.h"
#include "turbo_knob.h"

namespace vmpower {

Verdict SysfsBackend::allPresent(const CpufreqPolicy& policy,
                                 std::initializer_list<const char*> files) const {
    for (const char* f : files) {
        if (!sysfs_.exists(policy.file(f))) return Verdict::refused(policy.file(f) + " is missing");
    }
    return Verdict::accepted();
}

std::optional<std::uint32_t> SysfsBackend::readKhz(const CpufreqPolicy& policy,
                                                   const char* file) const {
    auto text = sysfs_.tryRead(policy.file(file));
    return text ? parseKhz(*text) : std::nullopt;
}

std::optional<std::uint32_t> SysfsBackend::currentFrequency(const CpufreqPolicy& policy) const {
    return readKhz(policy, "scaling_cur_freq");
}

std::vector<std::uint32_t> SysfsBackend::frequencySteps(const CpufreqPolicy& policy) const {
    return vmpower::frequencySteps(sysfs_, policy, step_khz_);
}

std::optional<TurboKnob> SysfsBackend::turboKnob(const CpufreqPolicy& policy) const {
    return findTurboKnob(sysfs_, policy, name());
}

}  // namespace vmpower
