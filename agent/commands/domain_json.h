#pragma once
// The control JSON of what the agent runs (agent/commands only): a domain
// with its vCPUs' intents and its power channels (state, show-vm,
// list-channels), and a VM's access rule (show-rule). Keys from
// common/control_protocol.h.

#include <nlohmann/json.hpp>

#include "agent_operations.h"

namespace vmpower::control {

nlohmann::json channelJson(const ChannelView& ch);
nlohmann::json domainJson(const DomainView& d, const DomainIntentRecord* intent);
// `over`: the rule's run-time override, if any; `d`: the VM if it runs.
nlohmann::json ruleJson(const AccessRule& r, const RuleOverride* over, const DomainView* d);

}  // namespace vmpower::control
