#include "turbo_knob.h"

#include "sysfs.h"

namespace vmpower {

std::optional<TurboKnob> findTurboKnob(const Sysfs& sysfs, const CpufreqPolicy& policy,
                                       std::string_view driver) {
    if (driver == "intel_pstate" || driver == "intel_cpufreq") {
        const std::string no_turbo = "devices/system/cpu/intel_pstate/no_turbo";
        if (sysfs.exists(no_turbo)) return TurboKnob{no_turbo, true, true};
        return std::nullopt;
    }
    if (sysfs.exists(policy.file("boost"))) return TurboKnob{policy.file("boost"), false, false};
    const std::string global = "devices/system/cpu/cpufreq/boost";
    if (sysfs.exists(global)) return TurboKnob{global, false, true};
    return std::nullopt;
}

}  // namespace vmpower
