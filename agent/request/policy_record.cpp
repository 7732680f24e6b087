#include "policy_record.h"

#include <array>
#include <cstdint>
#include <cstring>

#include "record_field.h"
#include "verdict.h"
#include "vmpower/protocol.h"

namespace vmpower {

namespace {

PolicyRecord refuse(std::string why, NackReason reason = NackReason::Malformed) {
    return PolicyRecord{std::nullopt, std::move(why), reason};
}

std::optional<HostPolicyType> typeOf(std::int32_t raw) {
    switch (raw) {
        case 0:
            return HostPolicyType::Traffic;
        case 1:
            return HostPolicyType::Time;
        case 2:
            return HostPolicyType::Workload;
        case 3:
            return HostPolicyType::BranchRatio;
        default:
            return std::nullopt;
    }
}

std::optional<Workload> workloadOf(std::int32_t raw) {
    switch (raw) {
        case 0:
            return Workload::High;
        case 1:
            return Workload::Medium;
        case 2:
            return Workload::Low;
        default:
            return std::nullopt;
    }
}

// One of timer_policy's three i32[24] arrays into `out`, or refused with
// the entry that is no hour.
Verdict readHours(std::span<const std::byte> record, std::size_t offset, const char* name,
                  HourSet& out) {
    for (std::size_t i = 0; i < VMPOWER_HOURS; ++i) {
        const auto h = readAt<std::int32_t>(record, offset + i * sizeof(std::int32_t));
        if (h < 0) continue;  // unused entry
        if (h > 23) {
            return Verdict::refused(std::string(name) + "[" + std::to_string(i) +
                                    "] = " + std::to_string(h) +
                                    " is not an hour (0-23, negative for unused)");
        }
        out.set(static_cast<std::size_t>(h));
    }
    return Verdict::accepted();
}

}  // namespace

PolicyRecord decodePolicyRecord(std::span<const std::byte> record, std::size_t vcpu_count) {
    if (record.size() != VMPOWER_PACKET_SIZE) return refuse("policies need 464-byte records");
    HostPolicy p;
    const auto raw_type = readAt<std::int32_t>(record, offsetof(vmpower_packet, policy_to_use));
    const auto type = typeOf(raw_type);
    if (!type) return refuse("policy_to_use " + std::to_string(raw_type) + " is unknown");
    p.type = *type;

    if (p.type == HostPolicyType::Workload) {
        const auto raw = readAt<std::int32_t>(record, offsetof(vmpower_packet, workload));
        const auto wl = workloadOf(raw);
        if (!wl) return refuse("workload " + std::to_string(raw) + " is unknown");
        p.workload = *wl;
    }

    const auto n = readAt<std::uint8_t>(record, offsetof(vmpower_packet, num_vcpu));
    if (n == 0 || n > VMPOWER_MAX_VCPU_PER_VM) {
        return refuse("num_vcpu " + std::to_string(n) + " is not 1-" +
                      std::to_string(VMPOWER_MAX_VCPU_PER_VM));
    }
    const auto ids = readAt<std::array<std::uint8_t, VMPOWER_MAX_VCPU_PER_VM>>(
        record, offsetof(vmpower_packet, vcpu_to_control));
    std::array<bool, 256> seen{};
    for (std::size_t i = 0; i < n; ++i) {
        const unsigned v = ids[i];
        if (v >= vcpu_count) {
            return refuse("vcpu_to_control[" + std::to_string(i) + "] = vCPU " + std::to_string(v) +
                              " out of range (the VM has " + std::to_string(vcpu_count) + ")",
                          NackReason::UnknownCpu);
        }
        if (seen[v]) return refuse("vcpu_to_control names vCPU " + std::to_string(v) + " twice");
        seen[v] = true;
        p.vcpus.push_back(v);
    }

    if (p.type == HostPolicyType::Time) {
        const std::size_t base = offsetof(vmpower_packet, timer_policy);
        const std::size_t len = sizeof(std::int32_t) * VMPOWER_HOURS;
        struct HourList {
            std::size_t offset;
            const char* name;
            HourSet* set;
        };
        const HourList lists[] = {
            {base, "busy_hours", &p.busy_hours},
            {base + len, "quiet_hours", &p.quiet_hours},
            {base + 2 * len, "hours_to_use_traffic_profile", &p.traffic_hours}};
        for (const HourList& l : lists) {
            const Verdict hours = readHours(record, l.offset, l.name, *l.set);
            if (!hours) return refuse(hours.reason());
        }
    }

    const bool uses_traffic = p.type == HostPolicyType::Traffic ||
                              (p.type == HostPolicyType::Time && p.traffic_hours.any());
    if (uses_traffic) {
        const std::size_t base = offsetof(vmpower_packet, traffic_policy);
        p.traffic.min_pps = readAt<std::uint32_t>(record, base);
        p.traffic.middle_pps = readAt<std::uint32_t>(record, base + 4);
        p.traffic.max_pps = readAt<std::uint32_t>(record, base + 8);
        if (p.traffic.middle_pps > p.traffic.max_pps) {
            return refuse("avg_max_packet_thresh " + std::to_string(p.traffic.middle_pps) +
                          " is above max_max_packet_thresh " + std::to_string(p.traffic.max_pps));
        }
        const auto macs = readAt<std::int32_t>(record, offsetof(vmpower_packet, nb_mac_to_monitor));
        if (macs < 0 || macs > VMPOWER_MAX_VFS) {
            return refuse("nb_mac_to_monitor " + std::to_string(macs) + " is not 0-" +
                          std::to_string(VMPOWER_MAX_VFS));
        }
        for (std::size_t i = 0; i < static_cast<std::size_t>(macs); ++i) {
            const auto vfid = readAt<std::uint64_t>(
                record, offsetof(vmpower_packet, vfid) + i * sizeof(std::uint64_t));
            p.macs.push_back(vfid & 0xffff'ffff'ffffULL);  // the top two bytes are not the MAC's
        }
    }
    return PolicyRecord{std::move(p), {}, {}};
}

}  // namespace vmpower
