#include "power_decision.h"

namespace vmpower {

namespace {

PowerDecision refuse(std::string why) {
    return PowerDecision{std::nullopt, std::move(why)};
}

// The checks every target passes, whoever addressed it: within the allowed
// pCPUs, and not shared with another VM unless the rule says so.
PowerDecision bounded(const VmPolicy& rule, const GuestIdentity& guest, const VcpuMap& vcpus,
                      PowerTarget target, const PcpuSharing& sharing) {
    const CpuSet allowed = rule.allowed_pcpus ? *rule.allowed_pcpus : vcpus.allPcpus();
    if (!target.pcpus.isSubsetOf(allowed)) {
        return refuse("pCPUs " + target.pcpus.toString() + " not within the allowed " +
                      allowed.toString());
    }
    if (!rule.shared_pcpus && sharing.sharedWithOtherDomain(guest.uuid, target.pcpus)) {
        return refuse("pCPUs " + target.pcpus.toString() +
                      " shared with another VM and shared_pcpus is off");
    }
    return PowerDecision{std::move(target), {}};
}

const VcpuMap& vcpusOf(const GuestIdentity& guest) {
    static const VcpuMap kNoVcpus;
    return guest.vcpus ? *guest.vcpus : kNoVcpus;
}

}  // namespace

PowerDecision decideVcpuPower(const VmPolicy& rule, const GuestIdentity& guest, std::uint64_t vcpu,
                              PowerAction action, const PcpuSharing& sharing) {
    if (!rule.allowed_actions.contains(action)) return refuse("command not allowed by the policy");
    const VcpuMap& vcpus = vcpusOf(guest);
    // resource_id is a u64 from the guest: compare before narrowing it.
    if (vcpu >= vcpus.vcpuCount()) {
        return refuse("vCPU " + std::to_string(vcpu) + " out of range (the VM has " +
                      std::to_string(vcpus.vcpuCount()) + ")");
    }
    PowerTarget target{Requester{guest.uuid, static_cast<unsigned>(vcpu)},
                       vcpus.pcpus(static_cast<std::size_t>(vcpu)), action};
    if (target.pcpus.empty()) return refuse("vCPU " + std::to_string(vcpu) + " has no known pCPU");
    if (target.pcpus.count() > 1 && !rule.multi_pcpu) {
        return refuse("vCPU " + std::to_string(vcpu) + " is pinned to several pCPUs (" +
                      target.pcpus.toString() + ") and multi_pcpu is off");
    }
    return bounded(rule, guest, vcpus, std::move(target), sharing);
}

PowerDecision decidePower(const VmPolicy& rule, const GuestIdentity& guest,
                          const DecodedRequest& req, const PcpuSharing& sharing) {
    if (!req.action) return refuse("unknown unit " + std::to_string(req.unit));
    if (!rule.allowed_actions.contains(*req.action))
        return refuse("command not allowed by the policy");
    const std::uint64_t id = req.resource_id;
    switch (req.core_type) {
        case CoreType::Invalid:
            return refuse("core_type is neither VIRTUAL nor PHYSICAL");
        case CoreType::Virtual:
            return decideVcpuPower(rule, guest, id, *req.action, sharing);
        case CoreType::Physical:
            break;
    }
    if (!rule.physical_addressing) return refuse("core_type PHYSICAL not allowed by the policy");
    if (id > CpuSet::kMaxCpu) return refuse("host CPU " + std::to_string(id) + " out of range");
    PowerTarget target{Requester{guest.uuid, kPhysicalRequesterBit | static_cast<unsigned>(id)},
                       CpuSet{static_cast<unsigned>(id)}, *req.action};
    return bounded(rule, guest, vcpusOf(guest), std::move(target), sharing);
}

}  // namespace vmpower
