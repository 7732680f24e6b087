// The Arbiter's shared-hardware side: who runs on each policy and turbo
// switch (footprints), who blocks a slowdown, and what was found there.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "arbiter.h"
#include "cpufreq_error.h"

namespace vmpower {

std::string Arbiter::nameOf(std::string_view uuid) const {
    auto it = footprints_.find(uuid);
    return it == footprints_.end() || it->second.name.empty() ? std::string(uuid) : it->second.name;
}

std::optional<std::string> Arbiter::blocker(std::size_t policy, std::string_view asking) const {
    const PolicyState& s = states_[policy];
    if (asking == kOperatorUuid || s.level_holders.contains(kOperatorUuid)) return std::nullopt;
    if (!s.host.empty()) return fmt::format("host CPU {} (agent.host_cpus)", s.host.toString());
    for (const auto& uuid : s.silent) {
        if (uuid != asking) return nameOf(uuid);  // at most two iterations
    }
    return std::nullopt;
}

std::optional<std::string> Arbiter::knobBlocker(std::size_t knob, std::string_view asking) const {
    const KnobState& k = knobs_[knob];
    if (asking == kOperatorUuid) return std::nullopt;
    auto op = k.wishes.find(kOperatorUuid);
    if (op != k.wishes.end()) return std::nullopt;
    if (k.host) return std::string("the host's own CPUs (agent.host_cpus)");
    for (const auto& uuid : k.silent) {
        if (uuid != asking) return nameOf(uuid);
    }
    return std::nullopt;
}

std::uint32_t Arbiter::foundCeiling(std::size_t policy) const {
    const PolicyState& s = states_[policy];
    if (s.found_ceiling) return *s.found_ceiling;
    // Not journaled yet: the live files are what we found. Unknown: only
    // the top step is surely not slower.
    auto live = backend_->foundCeiling(topology_.policy(policy));
    return live ? *live : (s.steps.empty() ? 0 : s.steps.back());
}

bool Arbiter::foundOn(std::size_t knob) const {
    const KnobState& k = knobs_[knob];
    if (k.found_on) return *k.found_on;
    auto text = sysfs_->tryRead(k.knob.file);
    if (!text || (*text != "0" && *text != "1")) return true;  // unknown: assume on (strict)
    return (*text == "1") != k.knob.inverted;
}

std::string Arbiter::refusalFor(std::size_t policy, const std::string& who) const {
    const CpufreqPolicy& pol = topology_.policy(policy);
    const std::string what = fmt::format("{} (CPUs {})", pol.name, pol.cpus.toString());
    if (who.starts_with("host CPU")) {
        return fmt::format("{} covers {}, which never asks; only raising to >= {} kHz is allowed",
                           what, who, foundCeiling(policy));
    }
    return fmt::format(
        "{} is shared with {}, which asked for no frequency there; only raising to >= {} kHz "
        "is allowed",
        what, who, foundCeiling(policy));
}

// --- holds and stakes, kept in step with their counts ---

void Arbiter::setStake(std::size_t policy, const std::string& uuid, bool in) {
    PolicyState& s = states_[policy];
    if (in) {
        if (s.stakeholders.insert(uuid).second && !s.level_holders.contains(uuid))
            s.silent.insert(uuid);
    } else {
        s.stakeholders.erase(uuid);
        s.silent.erase(uuid);
    }
}

void Arbiter::setKnobStake(std::size_t knob, const std::string& uuid, bool in) {
    KnobState& k = knobs_[knob];
    if (in) {
        if (k.stakeholders.insert(uuid).second && !k.wishes.contains(uuid)) k.silent.insert(uuid);
    } else {
        k.stakeholders.erase(uuid);
        k.silent.erase(uuid);
    }
}

// --- requests ---

void Arbiter::setFootprint(std::string_view domain_uuid, std::string_view name,
                           const CpuSet& cpus) {
    const std::string uuid(domain_uuid);
    auto [it, added] = footprints_.try_emplace(uuid);
    Footprint& fp = it->second;
    fp.name = std::string(name);
    if (!added && fp.cpus == cpus) return;
    std::vector<std::size_t> now;
    for (unsigned cpu : cpus.cpus()) {
        if (auto p = topology_.policyOf(cpu)) now.push_back(*p);
    }
    std::sort(now.begin(), now.end());
    now.erase(std::unique(now.begin(), now.end()), now.end());
    std::vector<std::size_t> left, joined;
    std::set_difference(fp.policies.begin(), fp.policies.end(), now.begin(), now.end(),
                        std::back_inserter(left));
    std::set_difference(now.begin(), now.end(), fp.policies.begin(), fp.policies.end(),
                        std::back_inserter(joined));
    const bool was_anywhere = !fp.cpus.empty();
    fp.cpus = cpus;
    fp.policies = now;
    if (!backend_) return;

    std::set<std::size_t> policies, knobs;
    for (std::size_t p : left) setStake(p, uuid, false);
    for (std::size_t p : joined) setStake(p, uuid, true);
    for (const auto* list : {&left, &joined}) {
        for (std::size_t p : *list) {
            policies.insert(p);
            auto k = states_[p].knob;
            if (k && !knobs_[*k].knob.global) {
                setKnobStake(*k, uuid, states_[p].stakeholders.contains(uuid));
                knobs.insert(*k);
            }
        }
    }
    if (was_anywhere != !cpus.empty()) {
        for (std::size_t k : global_knobs_) {
            setKnobStake(k, uuid, !cpus.empty());
            knobs.insert(k);
        }
    }
    if (!policies.empty() || !knobs.empty()) {
        spdlog::debug("cpufreq: {} may run on CPUs {} ({} policies changed stakeholders)", name,
                      cpus.toString(), policies.size());
    }
    reconcileQuietly(policies, knobs, fmt::format("footprint of {}", name));
}

}  // namespace vmpower
