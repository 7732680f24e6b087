#pragma once
// The control socket's commands (vmpowerctl, vmpowerd --dump-state): a table
// of name -> small handler over AgentOperations. Every argument comes from
// outside and is checked here with an error an operator can act on.

#include <nlohmann/json.hpp>

#include "agent_operations.h"
#include "control_access.h"

namespace vmpower {

// One request {"cmd": "...", ...} -> {"ok": true, ...} or {"ok": false,
// "error": "<cmd>: <what>"}. A loop callback: never throws. A ReadOnly
// client (the control socket's read-only group) is refused every command
// that changes something.
nlohmann::json runControlCommand(AgentOperations& agent, const nlohmann::json& request,
                                 ControlAccess access = ControlAccess::Full);

// The "state" command's answer (also vmpowerd --dump-state).
nlohmann::json agentStateJson(const AgentOperations& agent);

}  // namespace vmpower
