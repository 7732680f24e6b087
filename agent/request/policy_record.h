#pragma once
// PKT_POLICY's fields, read from a whole 464-byte record into a typed,
// checked HostPolicy. Identity is not in here: the policy is the channel's
// domain's, whatever the record's vm_name says (DPDK trusts vm_name, so one
// guest can set another's policy).

#include <cstddef>
#include <optional>
#include <span>
#include <string>

#include "host_policy.h"
#include "request_counters.h"

namespace vmpower {

struct PolicyRecord {
    std::optional<HostPolicy> policy;
    std::string refusal;  // why not, when policy is empty (for the NACK's log line)
    NackReason reason = NackReason::Malformed;  // when policy is empty
};

// `vcpu_count`: the VM's vCPUs; every vcpu_to_control entry must be one.
// Checked: the record size, policy_to_use, workload (WORKLOAD), num_vcpu
// (1..8), vcpu_to_control (in range, no repeats), each hour entry (0-23 is
// an hour, negative is unused, anything else is refused), nb_mac_to_monitor
// (0..10), the traffic thresholds' order (TRAFFIC and TIME with traffic
// hours).
PolicyRecord decodePolicyRecord(std::span<const std::byte> record, std::size_t vcpu_count);

}  // namespace vmpower
