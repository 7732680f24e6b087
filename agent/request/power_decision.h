#pragma once
// Which host CPUs a CPU_POWER request may act on, under the VM's rule.

#include <optional>
#include <string>

#include "guest_identity.h"
#include "access_rules.h"
#include "power_control.h"
#include "request_counters.h"
#include "request_decoder.h"

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

// Checks, in order: the command is allowed, core_type is valid (PHYSICAL
// only with `physical`), resource_id is a vCPU of this VM (or a host CPU),
// several pCPUs only with `multi_pcpu`, every pCPU within the allowed set
// (the rule's `pcpus`, or the pCPUs the VM's vCPUs are pinned to), sharing
// with another running VM only with `shared_pcpus`.
PowerDecision decidePower(const AccessRule& rule, const GuestIdentity& guest,
                          const DecodedRequest& req, const PcpuSharing& sharing);

// The same checks for `action` on one of the VM's vCPUs, however it was
// asked for (a record, or an intent restored after a live migration).
PowerDecision decideVcpuPower(const AccessRule& rule, const GuestIdentity& guest, std::uint64_t vcpu,
                              PowerAction action, const PcpuSharing& sharing);
// The same checks but the command's: where `action` on a vCPU (VIRTUAL) or
// host CPU (PHYSICAL) `id` may act. Host policies use it with their own
// action, which no `commands:` list names.
PowerDecision placePower(const AccessRule& rule, const GuestIdentity& guest, CoreType core_type,
                         std::uint64_t id, PowerAction action, const PcpuSharing& sharing);

}  // namespace vmpower
