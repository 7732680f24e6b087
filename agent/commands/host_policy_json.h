#pragma once
// A host policy as the control socket writes it: set-policy reads one,
// show-vm shows the VM's with its last decision.
//
// {"type": "time", "vcpus": [0, 1], "workload": "high",
//  "busy_hours": [9, 10], "quiet_hours": [0], "traffic_hours": [18],
//  "middle_pps": 1000, "max_pps": 50000, "min_pps": 0,
//  "macs": ["52:54:00:12:34:56"]}
// Only type and vcpus are required; the rest defaults to empty / 0 / low.
// show-vm's has, besides, "set_by", "level", "decision", "refusal" and, for
// a policy that measures traffic, "traffic_sampling": {"interval_ms": 2000,
// "last_sample_ms": 850, "samples": 12, "failures": 0, "last_error": "",
// "in_flight": false}.
// The names and checks are common/host_policy.h's fields (shared with the
// YAML rule key host_policy: and the migration intent).

#include <nlohmann/json.hpp>

#include "host_policy.h"
#include "host_policy_engine.h"

namespace vmpower {

// Throws std::invalid_argument naming the bad key. vCPUs are checked
// against the VM later, by the engine.
HostPolicy hostPolicyFromJson(const nlohmann::json& request);

nlohmann::json hostPolicyJson(const HostPolicyView& view);

}  // namespace vmpower
