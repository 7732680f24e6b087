#pragma once
// A VM's intent for one vCPU (the level it held, as a position, and its
// turbo wish), applied again on this host after a live migration or a
// vmpowerd restart (the intent store's one restore path): under
// this host's policy rule for the VM (the same checks as a guest's record),
// within this host's frequencies, through PowerControl::apply and so the
// shared-hardware rule. The guest's library never sends a level again that
// it already asked for, so this is how its wish survives the move.

#include <optional>
#include <string>

#include "access_rules.h"
#include "guest_identity.h"
#include "level_position.h"
#include "power_control.h"

namespace vmpower {

struct VcpuWish {
    std::optional<LevelPosition> level;
    std::optional<bool> turbo;
};

struct RestoreVerdict {
    bool applied = false;
    std::string refusal;               // why not, as a guest's NACK would say
    std::optional<std::uint32_t> khz;  // the level the position meant here
};

RestoreVerdict restoreVcpuWish(const AccessRules& policy, const GuestIdentity& guest, unsigned vcpu,
                               const VcpuWish& wish, PowerControl& power,
                               const PcpuSharing& sharing);

}  // namespace vmpower
