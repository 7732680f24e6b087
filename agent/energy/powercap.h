#pragma once
// The package energy counters of the kernel's powercap class (the RAPL
// driver, on Intel and AMD Zen alike): <sysfs_root>/class/powercap/
// intel-rapl:<p>/{name, energy_uj, max_energy_range_uj}, and each package's
// online CPUs from devices/system/cpu/cpu<N>/topology/physical_package_id.
// Outside input: every reader returns a value or says why not, never throws.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpu_set.h"
#include "verdict.h"

namespace vmpower {

struct RaplPackage {
    std::string zone;                       // "intel-rapl:0": the directory under class/powercap
    std::string name;                       // "package-0"
    unsigned id = 0;                        // the N of "package-N": physical_package_id
    std::uint64_t max_energy_range_uj = 0;  // energy_uj wraps to 0 after this
    CpuSet cpus;                            // its online CPUs

    std::string file(std::string_view attribute) const {
        return "class/powercap/" + zone + "/" + std::string(attribute);
    }
};

struct PowercapTree {
    std::vector<RaplPackage> packages;  // by id, ascending
    // Empty when at least one package was found; else why there is none
    // (no powercap class, no RAPL package zone, unreadable files).
    std::string unavailable;
    std::vector<std::string> problems;  // zones or CPUs skipped, and why
};

// Scans the tree once (at start): packages and their CPUs.
PowercapTree scanPowercap(const std::filesystem::path& sysfs_root);

// One package's counter now, or why it cannot be read.
Checked<std::uint64_t> readEnergyUj(const std::filesystem::path& sysfs_root,
                                    const RaplPackage& package);

// The pure parts, for tests and the fuzz target.
// A whole decimal number, optionally followed by one newline.
std::optional<std::uint64_t> parsePowercapNumber(std::string_view text);
// "package-3" -> 3; nullopt for "psys", "core", "dram", ...
std::optional<unsigned> packageOfZoneName(std::string_view name);
// A top-level RAPL zone directory: "intel-rapl:3" -> true; subzones
// ("intel-rapl:3:0") and the control type ("intel-rapl") -> false.
bool isTopLevelRaplZone(std::string_view dir_name);

}  // namespace vmpower
