#pragma once
// Builds the Arbiter the agent uses: the one factory of the cpufreq room
// (backend choice included). agent/core/power_setup.h only translates the
// agent's settings into CpufreqOptions.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "arbiter.h"

namespace vmpower {

struct CpufreqOptions {
    std::filesystem::path sysfs_root = "/sys";
    std::filesystem::path state_dir = "/var/lib/vmpower";  // holds the restore journal
    std::string driver_override;                           // "" = read scaling_driver
    std::uint32_t step_khz = 0;                            // 0 = the driver's frequency list
    std::filesystem::path proc_root = "/proc";             // tuned & co., and this boot's id
    // The host's own CPUs; nullopt: every CPU not in devices/system/cpu/isolated
    // when that file lists any, else none, the host then being a stakeholder
    // of each host-wide turbo switch (and warned about at start).
    std::optional<CpuSet> host_cpus;
};

// The journal file inside state_dir.
inline constexpr const char* kCpufreqJournalName = "cpufreq-journal";

// 1. Restores (and deletes) a journal a crashed run left in state_dir.
// 2. Reads the policy topology and picks the backend from scaling_driver
//    (or driver_override).
// 3. Warns about tuned, power-profiles-daemon, thermald.
// A root without any cpufreq gives an Arbiter that refuses every request
// (logged). Throws CpufreqError when the sysfs root does not exist, the
// state directory cannot be created, the driver is not supported, or
// policies disagree on their driver.
std::unique_ptr<Arbiter> makeArbiter(const CpufreqOptions& options);

// The backend for a scaling_driver name (the tree's, or the operator's
// override): acpi-cpufreq, intel_cpufreq (userspace governor); intel_pstate,
// amd-pstate, amd-pstate-epp, cppc_cpufreq (min/max). Throws CpufreqError
// for a driver we cannot drive.
std::unique_ptr<CpufreqBackend> makeBackend(std::string_view driver, const Sysfs& sysfs,
                                            std::uint32_t step_khz);

}  // namespace vmpower
