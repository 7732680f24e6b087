#pragma once
// Which VMs may do what to which host CPUs.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cpu_set.h"
#include "host_policy.h"
#include "power_control.h"
#include "record_format.h"

namespace vmpower {

struct AccessRule {
    std::string name;                     // the rule's label, for logs
    std::vector<std::string> name_globs;  // match by domain name (fnmatch)
    std::vector<std::string> uuids;       // or by UUID (canonical: dashed, lower case)
    std::optional<CpuSet> allowed_pcpus;  // nullopt: the pCPUs its vCPUs are pinned to
    // Default all; empty denies every CPU_POWER request (a "deny this VM" rule
    // placed before a catch-all).
    std::set<PowerAction> allowed_actions = {PowerAction::ScaleUp,     PowerAction::ScaleDown,
                                             PowerAction::Max,         PowerAction::Min,
                                             PowerAction::EnableTurbo, PowerAction::DisableTurbo};
    // The host policy types (PKT_POLICY's policy_to_use, or the operator's
    // set-policy) the VM may set; default all four, empty: none.
    std::set<HostPolicyType> allowed_policies = {HostPolicyType::Traffic, HostPolicyType::Time,
                                                 HostPolicyType::Workload,
                                                 HostPolicyType::BranchRatio};
    // The operator's policy for the VM (`host_policy:`): held while no
    // guest or operator policy replaces it, back after their REMOVE.
    // Its type is among allowed_policies (checked when read).
    std::optional<HostPolicy> host_policy;
    FrequencyLimits limits;
    // The VM's budget, over all its channels (a token bucket per VM);
    // rate 0 = unlimited.
    double requests_per_second = 100;
    unsigned burst = 20;
    // PKT_POLICY and PKT_POLICY_REMOVE, on top of the above: each may cost
    // several arbiter applies and perf_event_open calls.
    double policy_rate = 1;
    unsigned policy_burst = 4;
    bool physical_addressing = false;  // core_type=PHYSICAL allowed
    bool queries = true;               // QUERY_* answered
    bool energy = false;               // VMPOWER_QUERY_ENERGY answered (docs/energy.md)
    bool multi_pcpu = true;            // a vCPU pinned to several pCPUs scales all of them
    bool shared_pcpus = true;          // pinning overlapping another VM: allowed, arbitrated
    RecordFormat record_format = RecordFormat::Dpdk464;
};

// An operator's run-time change to one VM's rule (`vmpowerctl set-query`):
// in force until the next reload or restart, which start from the file.
struct RuleOverride {
    std::size_t rule_index = 0;  // the file's rule it changes
    bool queries = true;
    AccessRule rule;  // that rule with the override applied, matching the VM's UUID only
};

class AccessRules {
  public:
    // Rules' UUIDs are brought to canonical form here, so hand-built rules match too.
    explicit AccessRules(std::vector<AccessRule> rules);
    // The VM's override when it has one, else the first rule whose name
    // globs or UUIDs match (either is enough); nullptr: the VM is denied
    // everything.
    const AccessRule* match(std::string_view domain_name, std::string_view uuid) const;
    // The framing of the VM's channels: its rule's, Dpdk464 when unmatched.
    RecordFormat recordFormat(std::string_view domain_name, std::string_view uuid) const;
    const std::vector<AccessRule>& rules() const { return rules_; }

    // The file's rule for the VM, overrides ignored.
    const AccessRule* matchRules(std::string_view domain_name, std::string_view uuid) const;
    // This policy with the VM's queries switched. An override equal to the
    // file's rule is dropped, not kept; a VM no rule matches gets none (it is
    // denied everything anyway).
    AccessRules withQueryOverride(std::string_view domain_name, std::string_view uuid,
                                  bool queries) const;
    // By canonical UUID; nullptr: none.
    const RuleOverride* overrideFor(std::string_view uuid) const;
    const std::map<std::string, RuleOverride, std::less<>>& overrides() const { return overrides_; }

  private:
    std::vector<AccessRule> rules_;
    std::map<std::string, RuleOverride, std::less<>> overrides_;  // by canonical UUID
};

}  // namespace vmpower
