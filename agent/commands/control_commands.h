#pragma once
// The control socket's commands (vmpowerctl, vmpowerd --dump-state): a table
// of name -> small handler over AgentOperations. Every argument comes from
// outside and is checked here with an error an operator can act on.

#include <functional>
#include <nlohmann/json.hpp>

#include "agent_operations.h"
#include "async_call.h"
#include "control_access.h"

namespace vmpower {

// A command's answer, given once: {"ok": true, ...} or {"ok": false,
// "error": "<cmd>: <what>"}.
using CommandReply = std::function<void(nlohmann::json answer)>;

// One request {"cmd": "...", ...}. `reply` runs at once for most commands;
// a command that asks libvirt (set-pcpu, show-rule of a domain that is not
// running) answers later, on the loop, while the returned AsyncCall is kept
// (dropping it drops the answer: the client went away). A loop callback:
// never throws. A ReadOnly client (the control socket's read-only group) is
// refused every command that changes something.
AsyncCall startControlCommand(AgentOperations& agent, const nlohmann::json& request,
                              ControlAccess access, CommandReply reply);

// The same for a command that answers at once; one that would answer later
// is refused (for callers with no loop to wait on).
nlohmann::json runControlCommand(AgentOperations& agent, const nlohmann::json& request,
                                 ControlAccess access = ControlAccess::Full);

// The "state" command's answer (also vmpowerd --dump-state).
nlohmann::json agentStateJson(const AgentOperations& agent);

}  // namespace vmpower
