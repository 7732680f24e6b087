#include "intent_restore.h"

#include <algorithm>
#include <vector>

#include "power_decision.h"

namespace vmpower {

namespace {

RestoreVerdict refused(std::string why) {
    return RestoreVerdict{false, std::move(why), std::nullopt};
}

// A step below max was reached by stepping: either step command allowed
// lets the VM hold it.
PowerAction checkedAction(const AccessRule& rule, const LevelPosition& level) {
    switch (level.kind) {
        case LevelPosition::Kind::Max:
            return PowerAction::Max;
        case LevelPosition::Kind::Min:
            return PowerAction::Min;
        case LevelPosition::Kind::Step:
            break;
    }
    return rule.allowed_actions.contains(PowerAction::ScaleUp) ? PowerAction::ScaleUp
                                                               : PowerAction::ScaleDown;
}

}  // namespace

RestoreVerdict restoreVcpuWish(const AccessRules& policy, const GuestIdentity& guest, unsigned vcpu,
                               const VcpuWish& wish, PowerControl& power,
                               const PcpuSharing& sharing) {
    const AccessRule* rule = policy.match(guest.name, guest.uuid);
    if (!rule) return refused("no policy rule matches this VM");
    RestoreVerdict out{true, {}, std::nullopt};
    if (wish.level) {
        PowerDecision d =
            decideVcpuPower(*rule, guest, vcpu, checkedAction(*rule, *wish.level), sharing);
        if (!d.target) return refused(d.refusal);
        const PowerTarget& t = *d.target;
        PowerAction action =
            wish.level->kind == LevelPosition::Kind::Min ? PowerAction::Min : PowerAction::Max;
        FrequencyLimits limits = rule->limits;
        // A step: the step its position means among the frequencies this
        // VM may use here, held as "the highest at or below it".
        std::vector<std::uint32_t> allowed;
        for (std::uint32_t f : power.availableFrequencies(t.pcpus.cpus().front())) {
            if (f >= limits.floor_khz && f <= limits.ceiling_khz) allowed.push_back(f);
        }
        if (!allowed.empty()) {
            out.khz = levelAt(*wish.level, allowed);
            if (wish.level->kind == LevelPosition::Kind::Step) limits.ceiling_khz = *out.khz;
        }
        PowerVerdict v = power.apply(t.who, t.pcpus, action, limits);
        if (!v.applied) return refused("cpufreq refused: " + v.refusal);
    }
    if (wish.turbo) {
        PowerAction action = *wish.turbo ? PowerAction::EnableTurbo : PowerAction::DisableTurbo;
        PowerDecision d = decideVcpuPower(*rule, guest, vcpu, action, sharing);
        if (!d.target) return refused(d.refusal);
        PowerVerdict v = power.apply(d.target->who, d.target->pcpus, action, rule->limits);
        if (!v.applied) return refused("cpufreq refused: " + v.refusal);
    }
    return out;
}

}  // namespace vmpower
