#include "backend_factory.h"

#include <fmt/format.h>

#include "cpufreq_error.h"
#include "min_max_backend.h"
#include "userspace_backend.h"

namespace vmpower {

std::unique_ptr<CpufreqBackend> makeBackend(std::string_view driver, const Sysfs& sysfs,
                                            std::uint32_t step_khz) {
    const std::string name(driver);
    if (driver == "acpi-cpufreq" || driver == "intel_cpufreq") {
        return std::make_unique<UserspaceBackend>(sysfs, name, step_khz);
    }
    // amd-pstate's active mode reports itself as amd-pstate-epp.
    if (driver == "intel_pstate" || driver == "amd-pstate" || driver == "amd-pstate-epp" ||
        driver == "cppc_cpufreq") {
        return std::make_unique<MinMaxBackend>(sysfs, name, step_khz);
    }
    throw CpufreqError(
        fmt::format("cpufreq driver '{}' is not supported (supported: acpi-cpufreq, intel_cpufreq, "
                    "intel_pstate, "
                    "amd-pstate, amd-pstate-epp, cppc_cpufreq)",
                    driver));
}

}  // namespace vmpower
