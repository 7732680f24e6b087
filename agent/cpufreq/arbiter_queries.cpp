// The Arbiter's read-only side: what queries, show-cpu-freq and show-vm see.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "arbiter.h"
#include "cpufreq_error.h"

namespace vmpower {

std::string Arbiter::lastRefusal(std::string_view domain_uuid) const {
    auto it = refusals_.find(domain_uuid);
    return it == refusals_.end() ? std::string() : it->second;
}

std::optional<PowerDescription> Arbiter::describe(unsigned pcpu) const {
    auto p = backend_ ? topology_.policyOf(pcpu) : std::nullopt;
    if (!p) return std::nullopt;
    const PolicyState& s = states_[*p];
    const CpufreqPolicy& pol = topology_.policy(*p);
    PowerDescription d;
    d.policy = pol.name;
    d.cpus = pol.cpus;
    for (const auto& uuid : s.stakeholders) d.stakeholders.push_back(nameOf(uuid));
    d.host_cpus = s.host;
    for (const auto& [key, hold] : s.holds) {
        d.holds.push_back(PowerHoldView{key.first == kOperatorUuid ? key.first : nameOf(key.first),
                                        key.second, hold.khz, hold.turbo});
    }
    auto b = blocker(*p, {});
    d.consent = !b;
    d.found_ceiling_khz = foundCeiling(*p);
    d.applied_khz = s.applied_khz;
    if (b && !s.level_holders.empty() && !s.applied_khz) {
        d.note = fmt::format("holds not in force: {} runs there and asked for no frequency", *b);
    }
    if (s.knob) {
        const KnobState& k = knobs_[*s.knob];
        d.turbo_file = k.knob.file;
        d.turbo_global = k.knob.global;
        d.turbo_consent = !knobBlocker(*s.knob, {});
        d.turbo_applied = k.applied;
    }
    return d;
}

HeldRequest Arbiter::heldBy(const Requester& who, unsigned pcpu) const {
    auto p = backend_ ? topology_.policyOf(pcpu) : std::nullopt;
    if (!p) return {};
    const auto& holds = states_[*p].holds;
    auto it = holds.find(HolderView{who.domain_uuid, who.vcpu});
    if (it == holds.end()) return {};
    return HeldRequest{it->second.khz, it->second.turbo};
}

std::optional<std::uint32_t> Arbiter::currentFrequency(unsigned pcpu) const {
    if (!backend_) return std::nullopt;
    auto p = topology_.policyOf(pcpu);
    if (!p) return std::nullopt;
    try {
        return frequencyOf(*p);
    } catch (const CpufreqError&) {
        return std::nullopt;
    }
}

std::vector<std::uint32_t> Arbiter::availableFrequencies(unsigned pcpu) const {
    auto p = backend_ ? topology_.policyOf(pcpu) : std::nullopt;
    return p ? states_[*p].steps : std::vector<std::uint32_t>{};
}

bool Arbiter::turboCapable(unsigned pcpu) const {
    auto p = backend_ ? topology_.policyOf(pcpu) : std::nullopt;
    return p && states_[*p].knob.has_value();
}

bool Arbiter::highPriority(unsigned pcpu) const {
    auto p = backend_ ? topology_.policyOf(pcpu) : std::nullopt;
    return p && high_priority_[*p];
}

}  // namespace vmpower
