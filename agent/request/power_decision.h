#pragma once
// Which host CPUs a CPU_POWER request may act on, under the VM's rule.

#include <optional>
#include <string>

#include "access_rules.h"
#include "guest_identity.h"
#include "power_control.h"
#include "request_counters.h"
#include "request_decoder.h"
#include "verdict.h"

namespace vmpower {

struct PowerTarget {
    Requester who;
    CpuSet pcpus;
    PowerAction action;
};

// Either a target or, when refused, why (for the log and the metrics).
struct PowerDecision {
    std::optional<PowerTarget> target;
    std::string refusal;
    NackReason reason = NackReason::NotAllowed;  // when refused
};

// Whether the rule's `commands` let the VM reach `action` by any route (a
// guest's record, a host policy's decision, a restored intent): refused
// naming the missing command ("the rule does not allow 'min'"). The middle
// step is reached by stepping: `up` or `down` allows it. `commands: []`
// allows nothing.
Verdict commandAllowed(const AccessRule& rule, PowerAction action);

// Checks, in order: the command is allowed, core_type is valid (PHYSICAL
// only with `physical`), resource_id is a vCPU of this VM (or a host CPU),
// several pCPUs only with `multi_pcpu`, every pCPU within the allowed set
// (the rule's `pcpus`, or the pCPUs the VM's vCPUs are pinned to), sharing
// with another running VM only with `shared_pcpus`.
PowerDecision decidePower(const AccessRule& rule, const GuestIdentity& guest,
                          const DecodedRequest& req, const PcpuSharing& sharing);

// The same checks for `action` on one of the VM's vCPUs, however it was
// asked for (a record, or an intent restored after a live migration).
PowerDecision decideVcpuPower(const AccessRule& rule, const GuestIdentity& guest,
                              std::uint64_t vcpu, PowerAction action, const PcpuSharing& sharing);
// The same checks but the command's: where `action` on a vCPU (VIRTUAL) or
// host CPU (PHYSICAL) `id` may act. Callers check commandAllowed first
// (host policies, with the refusal naming the command).
PowerDecision placePower(const AccessRule& rule, const GuestIdentity& guest, CoreType core_type,
                         std::uint64_t id, PowerAction action, const PcpuSharing& sharing);

}  // namespace vmpower
