#include "libvirt_events.h"

#include <libvirt/libvirt.h>

#include <string_view>

namespace vmpower {

std::optional<DomainEvent> lifecycleEvent(int event, int detail) {
    switch (event) {
        case VIR_DOMAIN_EVENT_STOPPED:
            return DomainStopped{detail == VIR_DOMAIN_EVENT_STOPPED_MIGRATED};
        case VIR_DOMAIN_EVENT_SHUTDOWN:
            return std::nullopt;  // the guest shut down; STOPPED follows
        case VIR_DOMAIN_EVENT_STARTED:
            return DomainStarted{detail == VIR_DOMAIN_EVENT_STARTED_MIGRATED};
        case VIR_DOMAIN_EVENT_SUSPENDED:
            return DomainChanged{detail == VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED};
        case VIR_DOMAIN_EVENT_RESUMED:
            return DomainChanged{detail == VIR_DOMAIN_EVENT_RESUMED_MIGRATED};
        default:
            // DEFINED, UNDEFINED, CRASHED, PMSUSPENDED: ask libvirt what is
            // true now.
            return DomainChanged{};
    }
}

namespace {

// "12" -> 12; nullopt for an empty, non-decimal or absurdly long number.
std::optional<unsigned> vcpuNumber(std::string_view num) {
    if (num.empty() || num.size() >= 6) return std::nullopt;
    unsigned vcpu = 0;
    for (char c : num) {
        if (c < '0' || c > '9') return std::nullopt;
        vcpu = vcpu * 10 + static_cast<unsigned>(c - '0');
    }
    return vcpu;
}

}  // namespace

std::vector<DomainEvent> tunableEvents(const TunableParams& params,
                                       std::vector<std::string>* rejected) {
    static constexpr std::string_view kPin = "cputune.vcpupin";
    std::vector<DomainEvent> out;
    auto reject = [&](const std::string& key, const std::string& value) {
        if (rejected != nullptr) rejected->push_back(key + "='" + value + "'");
    };
    for (const auto& [key, value] : params) {
        if (key == "cputune.emulatorpin") {
            if (auto set = CpuSet::parse(value)) {
                out.emplace_back(EmulatorRepinned{*set});
            } else {
                reject(key, value);
            }
            continue;
        }
        if (key.starts_with("cputune.iothreadpin")) {
            // An IOThread re-pinned: its footprint is in the live XML.
            out.emplace_back(DomainChanged{});
            continue;
        }
        if (!key.starts_with(kPin)) continue;
        auto vcpu = vcpuNumber(std::string_view(key).substr(kPin.size()));
        auto set = CpuSet::parse(value);
        if (!vcpu || !set || set->empty() || *vcpu >= CpuSet::kMaxCpu) {
            reject(key, value);
            continue;
        }
        out.emplace_back(VcpuRepinned{*vcpu, *set});
    }
    return out;
}

}  // namespace vmpower
