#pragma once
// Where a guest's PKT_POLICY / PKT_POLICY_REMOVE go once decoded: the host
// policy engine (agent/hostpolicy). An interface so the request path does not
// depend on the engine's timers and sources.

#include <string>
#include <string_view>

#include "guest_identity.h"
#include "host_policy.h"

namespace vmpower {

enum class PolicyOrigin { Guest, Operator };

class HostPolicySink {
  public:
    virtual ~HostPolicySink() = default;
    // Replaces the VM's policy. "" when accepted (and its first decision
    // applied); else why not, and the VM keeps what it had.
    virtual std::string setHostPolicy(const GuestIdentity& guest, HostPolicy policy,
                                      PolicyOrigin origin) = 0;
    // Drops the VM's policy; its vCPUs go back to what the VM's own
    // requests hold. False: it had none.
    virtual bool removeHostPolicy(std::string_view uuid) = 0;
};

}  // namespace vmpower
