// libFuzzer target: the powercap tree's text (agent/energy/powercap): zone
// directory names, zone names, energy_uj and max_energy_range_uj values.
// Input: three NUL-separated strings. Invariants: a package id comes only
// from "package-<digits>"; a parsed number prints back as the same digits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "powercap.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    std::string_view part[3];
    for (auto& p : part) {
        auto nul = in.find('\0');
        p = in.substr(0, nul);
        in = nul == std::string_view::npos ? std::string_view{} : in.substr(nul + 1);
    }
    (void)vmpower::isTopLevelRaplZone(part[0]);
    if (auto id = vmpower::packageOfZoneName(part[1])) {
        if (!part[1].starts_with("package-")) std::abort();
    }
    if (auto n = vmpower::parsePowercapNumber(part[2])) {
        std::string_view digits = part[2];
        if (digits.ends_with('\n')) digits.remove_suffix(1);
        if (std::to_string(*n) != digits &&
            digits.find_first_not_of('0') != std::string_view::npos && digits.front() != '0')
            std::abort();
    }
    return 0;
}
