#include "power_decision.h"

namespace vmpower {

namespace {

PowerDecision refuse(NackReason reason, std::string why) {
    return PowerDecision{std::nullopt, std::move(why), reason};
}

}  // namespace

Verdict commandAllowed(const AccessRule& rule, PowerAction action) {
    const auto& allowed = rule.allowed_actions;
    if (action == PowerAction::Middle) {
        if (allowed.contains(PowerAction::ScaleUp) || allowed.contains(PowerAction::ScaleDown))
            return Verdict::accepted();
        return Verdict::refused("the rule does not allow 'up' or 'down'");
    }
    if (allowed.contains(action)) return Verdict::accepted();
    return Verdict::refused("the rule does not allow '" + std::string(powerActionName(action)) +
                            "'");
}

PowerDecision decidePower(const AccessRule& rule, const GuestIdentity& guest,
                          const DecodedRequest& req, const PcpuSharing& sharing) {
    if (!req.action)
        return refuse(NackReason::Malformed, "unknown unit " + std::to_string(req.unit));
    if (!commandAllowed(rule, *req.action))
        return refuse(NackReason::NotAllowed, "command not allowed by the policy");
    return placePower(rule, guest, req.core_type, req.resource_id, *req.action, sharing);
}

PowerDecision decideVcpuPower(const AccessRule& rule, const GuestIdentity& guest,
                              std::uint64_t vcpu, PowerAction action, const PcpuSharing& sharing) {
    if (!commandAllowed(rule, action))
        return refuse(NackReason::NotAllowed, "command not allowed by the policy");
    return placePower(rule, guest, CoreType::Virtual, vcpu, action, sharing);
}

PowerDecision placePower(const AccessRule& rule, const GuestIdentity& guest, CoreType core_type,
                         std::uint64_t id, PowerAction action, const PcpuSharing& sharing) {
    static const VcpuMap kNoVcpus;
    const VcpuMap& vcpus = guest.vcpus ? *guest.vcpus : kNoVcpus;
    // id (resource_id) is a u64 from the guest: compare before narrowing it.
    PowerTarget target{Requester{}, CpuSet{}, action};
    switch (core_type) {
        case CoreType::Invalid:
            return refuse(NackReason::Malformed, "core_type is neither VIRTUAL nor PHYSICAL");
        case CoreType::Physical:
            if (!rule.physical_addressing)
                return refuse(NackReason::NotAllowed,
                              "core_type PHYSICAL not allowed by the policy");
            if (id > CpuSet::kMaxCpu)
                return refuse(NackReason::UnknownCpu,
                              "host CPU " + std::to_string(id) + " out of range");
            target.pcpus.add(static_cast<unsigned>(id));
            target.who = Requester::physical(guest.uuid, static_cast<unsigned>(id));
            break;
        case CoreType::Virtual:
            if (id >= vcpus.vcpuCount()) {
                return refuse(NackReason::UnknownCpu, "vCPU " + std::to_string(id) +
                                                          " out of range (the VM has " +
                                                          std::to_string(vcpus.vcpuCount()) + ")");
            }
            target.pcpus = vcpus.pcpus(static_cast<std::size_t>(id));
            target.who = Requester::vcpu(guest.uuid, static_cast<unsigned>(id));
            if (target.pcpus.empty())
                return refuse(NackReason::UnknownCpu,
                              "vCPU " + std::to_string(id) + " has no known pCPU");
            if (target.pcpus.count() > 1 && !rule.multi_pcpu) {
                return refuse(NackReason::NotAllowed,
                              "vCPU " + std::to_string(id) + " is pinned to several pCPUs (" +
                                  target.pcpus.toString() + ") and multi_pcpu is off");
            }
            break;
    }
    // Without a rule's list the allowed pCPUs are the VM's own: checked
    // without building their union (no allocation per request).
    if (rule.allowed_pcpus ? !target.pcpus.isSubsetOf(*rule.allowed_pcpus)
                           : !vcpus.covers(target.pcpus)) {
        const CpuSet allowed = rule.allowed_pcpus ? *rule.allowed_pcpus : vcpus.allPcpus();
        return refuse(
            NackReason::OutsideAllowedCpus,
            "pCPUs " + target.pcpus.toString() + " not within the allowed " + allowed.toString());
    }
    if (!rule.shared_pcpus && sharing.sharedWithOtherDomain(guest.uuid, target.pcpus)) {
        return refuse(
            NackReason::SharedPcpus,
            "pCPUs " + target.pcpus.toString() + " shared with another VM and shared_pcpus is off");
    }
    return PowerDecision{std::move(target), {}};
}

}  // namespace vmpower
