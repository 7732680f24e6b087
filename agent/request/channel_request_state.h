#pragma once
// What the request path keeps per channel: its lease on the VM's budget
// (the rate-limit buckets and log throttle all the VM's channels share), its
// counters and its matched policy rule. Opaque to the rest of the agent.

#include <memory>
#include <string>

#include "request_handler.h"
#include "vm_budgets.h"

namespace vmpower {

struct ChannelRequestState {
    // The budget of the VM behind the channel, leased at its first record
    // (and again if the channel's guest changes).
    VmBudgets::Lease vm;
    RequestCounters counters;
    // The channel's rule, matched once per set of rules in force (a reload
    // or an override replaces RulesInForce's pointer with a new AccessRules,
    // which is how a stale match is seen) and guest, not per request:
    // matching canonicalises the UUID and tries every glob. `matched_rules`
    // keeps the set the rule points into alive, so its address cannot be
    // reused by a newer set while it is compared.
    std::shared_ptr<const AccessRules> matched_rules;
    std::string matched_name, matched_uuid;
    const AccessRule* rule = nullptr;
};

}  // namespace vmpower
