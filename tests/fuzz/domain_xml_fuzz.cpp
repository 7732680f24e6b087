// Fuzzes the domain XML reader: any bytes must give a description or a
// DomainXmlError, never a crash, a hang or an unbounded allocation.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "domain_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view xml(reinterpret_cast<const char*>(data), size);
    try {
        vmpower::DomainDescription d = vmpower::parseDomainXml(xml);
        std::vector<vmpower::CpuSet> pins =
            vmpower::effectiveVcpuPins(d, vmpower::CpuSet{0, 1, 2, 3});
        // Invariants the agent relies on.
        if (pins.size() != d.vcpus_current || d.online_vcpus.size() != d.vcpus_current ||
            d.vcpus_current > d.vcpus_max || d.vcpus_max > vmpower::DomainDescription::kMaxVcpus) {
            __builtin_trap();
        }
        for (const auto& ch : d.channels) {
            if (ch.type != "unix" || ch.source_path.empty() || ch.source_path.front() != '/') {
                __builtin_trap();
            }
        }
    } catch (const vmpower::DomainXmlError&) {
    }
    return 0;
}
