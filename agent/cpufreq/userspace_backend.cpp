#include "userspace_backend.h"

#include <fmt/format.h>

#include "frequency_steps.h"
#include "sysfs.h"
#include "turbo_knob.h"

namespace vmpower {

namespace {

bool hasWord(std::string_view list, std::string_view word) {
    while (!list.empty()) {
        list = trimSysfs(list);
        std::size_t end = list.find(' ');
        if (list.substr(0, end) == word) return true;
        if (end == std::string_view::npos) break;
        list.remove_prefix(end);
    }
    return false;
}

}  // namespace

UserspaceBackend::UserspaceBackend(const Sysfs& sysfs, std::string driver, std::uint32_t step_khz)
    : SysfsBackend(sysfs, std::move(driver), step_khz) {}

Verdict UserspaceBackend::usable(const CpufreqPolicy& policy) const {
    if (Verdict present = allPresent(policy, {"scaling_governor", "scaling_setspeed",
                                              "cpuinfo_min_freq", "cpuinfo_max_freq"});
        !present) {
        return present;
    }
    auto governors = sysfs_.tryRead(policy.file("scaling_available_governors"));
    if (!governors || !hasWord(*governors, "userspace")) {
        return Verdict::refused(fmt::format("{} has no userspace governor", policy.dir));
    }
    return Verdict::accepted();
}

std::vector<std::string> UserspaceBackend::touchedFiles(const CpufreqPolicy& policy) const {
    // min/max are not written but are recorded: a governor change can make
    // some kernels reset them, and restoring them costs nothing.
    return {policy.file("scaling_governor"), policy.file("scaling_setspeed"),
            policy.file("scaling_min_freq"), policy.file("scaling_max_freq")};
}

void UserspaceBackend::prepare(const CpufreqPolicy& policy) {
    if (sysfs_.read(policy.file("scaling_governor")) != "userspace") {
        sysfs_.write(policy.file("scaling_governor"), "userspace\n");
    }
}

void UserspaceBackend::setFrequency(const CpufreqPolicy& policy, std::uint32_t khz) {
    sysfs_.write(PolicyFile(policy, "scaling_setspeed"), KhzText(khz));
}

std::optional<std::uint32_t> UserspaceBackend::foundCeiling(const CpufreqPolicy& policy) const {
    auto governor = sysfs_.tryRead(policy.file("scaling_governor"));
    return readKhz(policy,
                   governor && *governor == "userspace" ? "scaling_setspeed" : "scaling_max_freq");
}

}  // namespace vmpower
