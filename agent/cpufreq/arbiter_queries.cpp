// The Arbiter's read-only side: what queries, show-cpu-freq and show-vm see.
#include <fmt/format.h>

#include "arbiter.h"
#include "cpufreq_error.h"
#include "system_error.h"

namespace vmpower {

std::string Arbiter::lastRefusal(std::string_view domain_uuid) const {
    auto it = refusals_.find(domain_uuid);
    return it == refusals_.end() ? std::string() : it->second;
}

std::optional<PowerDescription> Arbiter::describe(unsigned pcpu) const {
    auto d = writer_.drives() ? topology().domainOf(pcpu) : std::nullopt;
    if (!d) return std::nullopt;
    const CpufreqPolicy& pol = topology().policy(*d);
    PowerDescription out;
    out.policy = pol.name;
    out.cpus = pol.cpus;
    for (const auto& uuid : stakeholders_.of(*d))
        out.stakeholders.push_back(stakeholders_.nameOf(uuid));
    out.host_cpus = stakeholders_.hostCpusIn(*d);
    for (const auto& [who, hold] : holds_.holds(*d)) {
        out.holds.push_back(PowerHoldView{
            who, who.isOperator() ? std::string() : stakeholders_.nameOf(who.domainUuid()),
            hold.khz, hold.turbo});
    }
    auto b = stakeholders_.blocker(*d, nullptr);
    out.consent = !b;
    out.found_ceiling_khz = writer_.foundCeiling(*d);
    out.applied_khz = writer_.applied(*d);
    if (b && holds_.highest(*d) && !out.applied_khz) {
        out.note = fmt::format("holds not in force: {} runs there and asked for no frequency", *b);
    }
    // The operator's precedence (Arbiter::heldByOperator): said first.
    const bool level_held = holds_.operatorHoldsLevel(*d);
    const auto sw = writer_.switchOf(*d);
    const bool turbo_held = sw && holds_.operatorWishes(*sw);
    if (level_held || turbo_held) {
        out.note = fmt::format(
            "held by the operator ({}) until `vmpowerctl release-cpu-freq`: VMs' requests for "
            "it are refused{}",
            level_held && turbo_held ? "frequency and turbo"
            : level_held             ? "frequency"
                                     : "turbo",
            out.note.empty() ? "" : "; " + out.note);
    }
    if (auto s = sw) {
        const TurboKnob& knob = writer_.knob(*s);
        out.turbo_file = knob.file;
        out.turbo_global = knob.global;
        out.turbo_consent = !stakeholders_.switchBlocker(*s, nullptr);
        out.turbo_applied = writer_.applied(*s);
    }
    return out;
}

HeldRequest Arbiter::heldBy(const Requester& who, unsigned pcpu) const {
    auto d = writer_.drives() ? topology().domainOf(pcpu) : std::nullopt;
    if (!d) return {};
    const Hold* held = holds_.find(*d, who);
    if (!held) return {};
    return HeldRequest{held->khz, held->turbo};
}

std::optional<std::uint32_t> Arbiter::currentFrequency(unsigned pcpu) const {
    auto d = writer_.drives() ? topology().domainOf(pcpu) : std::nullopt;
    if (!d) return std::nullopt;
    try {
        return writer_.frequencyOf(*d);
    } catch (const CpufreqError&) {
        return std::nullopt;
    } catch (const SystemError&) {
        return std::nullopt;
    }
}

std::span<const std::uint32_t> Arbiter::availableFrequencies(unsigned pcpu) const {
    auto d = writer_.drives() ? topology().domainOf(pcpu) : std::nullopt;
    if (!d) return {};
    return writer_.steps(*d);
}

bool Arbiter::turboCapable(unsigned pcpu) const {
    auto d = writer_.drives() ? topology().domainOf(pcpu) : std::nullopt;
    return d && writer_.switchOf(*d).has_value();
}

bool Arbiter::highPriority(unsigned pcpu) const {
    auto d = writer_.drives() ? topology().domainOf(pcpu) : std::nullopt;
    return d && writer_.highPriority(*d);
}

}  // namespace vmpower
