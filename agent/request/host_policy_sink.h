#pragma once
// Where a guest's PKT_POLICY / PKT_POLICY_REMOVE go once decoded: the host
// policy engine (agent/hostpolicy). An interface so the request path does not
// depend on the engine's timers and sources.

#include <string>
#include <string_view>

#include "guest_identity.h"
#include "host_policy.h"
#include "name_table.h"
#include "verdict.h"

namespace vmpower {

// Who set a VM's policy: the guest (PKT_POLICY), the operator (vmpowerctl
// set-policy) or the VM's rule in the config file (host_policy:, the
// default a guest or operator may replace; docs/policy.md "Precedence").
enum class PolicyOrigin { Guest, Operator, Rule };

inline constexpr NameTable<PolicyOrigin, 3> kPolicyOriginNames{{
    {"guest", PolicyOrigin::Guest},
    {"operator", PolicyOrigin::Operator},
    {"rule", PolicyOrigin::Rule},
}};

class HostPolicySink {
  public:
    virtual ~HostPolicySink() = default;
    // Replaces the VM's policy: accepted once its first decision is
    // applied; else refused with why, and the VM keeps what it had.
    virtual Verdict setHostPolicy(const GuestIdentity& guest, HostPolicy policy,
                                  PolicyOrigin origin) = 0;
    // Drops the VM's guest or operator policy; its vCPUs go back to its
    // rule's policy when the rule has one, else to what the VM's own
    // requests hold. False: it had none (a rule's policy is not removed).
    virtual bool removeHostPolicy(std::string_view uuid) = 0;
};

}  // namespace vmpower
