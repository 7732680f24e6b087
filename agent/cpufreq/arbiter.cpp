#include "arbiter.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <span>

#include "cpufreq_error.h"
#include "power_action.h"

namespace vmpower {

namespace {

std::string knobGroup(const std::string& file) {
    return "turbo:" + file;
}

bool isTurbo(PowerAction a) {
    return a == PowerAction::EnableTurbo || a == PowerAction::DisableTurbo;
}

}  // namespace

Arbiter::Arbiter(std::unique_ptr<Sysfs> sysfs, CpufreqTopology topology,
                 std::unique_ptr<CpufreqBackend> backend, const std::filesystem::path& journal_file,
                 CpuSet host_cpus, std::string boot_id)
    : sysfs_(std::move(sysfs)),
      topology_(std::move(topology)),
      backend_(std::move(backend)),
      journal_(*sysfs_, journal_file, std::move(boot_id)),
      host_cpus_(std::move(host_cpus)),
      states_(topology_.policies().size()),
      high_priority_(topology_.policies().size(), false) {
    if (!backend_) return;
    std::vector<std::optional<std::uint32_t>> base(states_.size());
    std::map<std::string, std::size_t> knob_by_file;
    for (std::size_t i = 0; i < states_.size(); ++i) {
        const CpufreqPolicy& p = topology_.policy(i);
        for (unsigned cpu : p.cpus.cpus()) {
            if (host_cpus_.contains(cpu)) states_[i].host.add(cpu);
        }
        std::optional<TurboKnob> knob;
        try {
            // Checked once: re-checking the files on every request cost most
            // of a request's instructions (bench/README.md). A policy that
            // breaks later fails its write, which is undone and refused.
            if (auto bad = backend_->unusable(p)) throw CpufreqError(*bad);
            states_[i].steps = backend_->frequencySteps(p);
            knob = backend_->turboKnob(p);
        } catch (const CpufreqError& e) {
            // One broken policy must not take the others down: refuse it.
            spdlog::warn("cpufreq: {} cannot be used, its CPUs will be refused: {}", p.dir,
                         e.what());
            states_[i].steps.clear();
            states_[i].unusable = e.what();
        }
        if (knob) {
            auto [it, added] = knob_by_file.try_emplace(knob->file, knobs_.size());
            if (added) {
                knobs_.push_back(KnobState{*knob, {}, knob->global && !host_cpus_.empty()});
                if (knob->global) global_knobs_.push_back(it->second);
            }
            KnobState& k = knobs_[it->second];
            k.policies.push_back(i);
            if (!states_[i].host.empty()) k.host = true;
            states_[i].knob = it->second;
        }
        if (auto text = sysfs_->tryRead(p.file("base_frequency"))) base[i] = parseKhz(*text);
    }
    // SST-BF: cores whose base frequency is above the others' are the
    // high-priority ones.
    std::optional<std::uint32_t> lowest;
    for (const auto& b : base) {
        if (b && (!lowest || *b < *lowest)) lowest = b;
    }
    for (std::size_t i = 0; i < base.size(); ++i) high_priority_[i] = base[i] && *base[i] > *lowest;
    if (!host_cpus_.empty()) {
        spdlog::info("cpufreq: host CPUs {} are stakeholders of every policy covering them",
                     host_cpus_.toString());
    }
}

Arbiter::~Arbiter() {
    try {
        restoreAll();
    } catch (const std::exception& e) {
        spdlog::error("cpufreq: restore at shutdown failed: {}", e.what());
    }
}

std::string_view Arbiter::driver() const {
    return backend_ ? backend_->name() : std::string_view();
}

bool Arbiter::resolve(const CpuSet& pcpus, std::vector<std::size_t>& out, std::string& why) const {
    out.clear();
    if (pcpus.empty()) {
        why = "the request names no CPU";
        return false;
    }
    pcpus.forEach([&](unsigned cpu) {
        if (!why.empty()) return;
        auto p = topology_.policyOf(cpu);
        if (!p) {
            why = fmt::format("cpu{} has no cpufreq policy under {}", cpu, sysfs_->root().string());
        } else if (states_[*p].steps.empty()) {
            why = fmt::format("cpu{} ({}) is not usable: {}", cpu, topology_.policy(*p).dir,
                              states_[*p].unusable);
        } else if (std::find(out.begin(), out.end(), *p) == out.end()) {
            out.push_back(*p);
        }
    });
    return why.empty();
}

std::optional<std::uint32_t> Arbiter::frequencyOf(std::size_t policy) const {
    if (states_[policy].applied_khz) return states_[policy].applied_khz;
    return backend_->currentFrequency(topology_.policy(policy));
}

std::optional<std::uint32_t> Arbiter::chooseLevel(std::size_t policy, HolderView key,
                                                  PowerAction action, const FrequencyLimits& limits,
                                                  std::string& why) const {
    // The steps within the limits: a range of the ascending list, not a copy
    // (no allocation per request).
    const auto& steps = states_[policy].steps;
    const auto lo = std::lower_bound(steps.begin(), steps.end(), limits.floor_khz);
    const std::span<const std::uint32_t> allowed(
        lo, std::upper_bound(lo, steps.end(), limits.ceiling_khz));
    if (allowed.empty()) {
        why = fmt::format("no frequency of {} lies in [{}, {}] kHz", topology_.policy(policy).dir,
                          limits.floor_khz, limits.ceiling_khz);
        return std::nullopt;
    }
    const auto& holds = states_[policy].holds;
    auto held = holds.find(key);
    std::optional<std::uint32_t> base =
        held != holds.end() && held->second.khz ? held->second.khz : frequencyOf(policy);
    // Current frequency unknown: treat as the lowest allowed step.
    const std::uint32_t from = base.value_or(allowed.front());
    switch (action) {
        case PowerAction::ScaleUp: {
            auto it = std::upper_bound(allowed.begin(), allowed.end(), from);
            return it == allowed.end() ? allowed.back() : *it;
        }
        case PowerAction::ScaleDown: {
            auto it = std::lower_bound(allowed.begin(), allowed.end(), from);
            return it == allowed.begin() ? allowed.front() : *std::prev(it);
        }
        case PowerAction::Max:
            return allowed.back();
        case PowerAction::Min:
            return allowed.front();
        case PowerAction::Middle:
            // DPDK's "medium": index n/2 of its descending list.
            return allowed[allowed.size() - 1 - allowed.size() / 2];
        default:
            why = "not a frequency action";
            return std::nullopt;
    }
}

// --- consent ---

void Arbiter::setHold(std::size_t policy, HolderView key, std::optional<Hold> hold) {
    // Called per request: the common case (a holder moving its level) finds
    // and reuses every node, so it allocates nothing.
    PolicyState& s = states_[policy];
    auto it = s.holds.find(key);
    // No hold yet reads as an empty one (no level, no turbo wish).
    const Hold old = it == s.holds.end() ? Hold{} : it->second;
    const std::string_view uuid = key.first;
    const bool had_level = old.khz.has_value(), has_level = hold && hold->khz;
    if (had_level && has_level) {
        auto node = s.levels.extract(s.levels.find(*old.khz));
        node.value() = *hold->khz;
        s.levels.insert(std::move(node));
    } else if (had_level) {
        s.levels.erase(s.levels.find(*old.khz));
    } else if (has_level) {
        s.levels.insert(*hold->khz);
    }
    if (has_level && !had_level) {
        auto n = s.level_holders.find(uuid);
        if (n == s.level_holders.end()) {
            s.level_holders.emplace(std::string(uuid), 1);
            if (auto q = s.silent.find(uuid); q != s.silent.end()) s.silent.erase(q);
        } else {
            ++n->second;
        }
    } else if (had_level && !has_level) {
        auto n = s.level_holders.find(uuid);
        if (--n->second == 0) {
            s.level_holders.erase(n);
            if (s.stakeholders.contains(uuid)) s.silent.emplace(uuid);
        }
    }
    if (s.knob) {
        KnobState& k = knobs_[*s.knob];
        auto wish = [&](bool on, int delta) {
            auto w = k.wishes.find(uuid);
            if (w == k.wishes.end()) w = k.wishes.emplace(std::string(uuid), Wishes{}).first;
            unsigned& mine = on ? w->second.on : w->second.off;
            unsigned& all = on ? k.on : k.off;
            mine = static_cast<unsigned>(static_cast<int>(mine) + delta);
            all = static_cast<unsigned>(static_cast<int>(all) + delta);
            if (w->second.on + w->second.off == 0) {
                k.wishes.erase(w);
                if (k.stakeholders.contains(uuid)) k.silent.emplace(uuid);
            } else if (delta > 0 && w->second.on + w->second.off == 1) {
                if (auto q = k.silent.find(uuid); q != k.silent.end()) k.silent.erase(q);
            }
        };
        if (old.turbo) wish(*old.turbo, -1);
        if (hold && hold->turbo) wish(*hold->turbo, +1);
    }
    if (!hold) {
        if (it != s.holds.end()) s.holds.erase(it);
    } else if (it != s.holds.end()) {
        it->second = *hold;
    } else {
        s.holds.emplace(HolderKey(std::string(key.first), key.second), *hold);
    }
}

PowerVerdict Arbiter::refuse(const Requester& who, std::string why, bool shared_hardware) {
    spdlog::debug("cpufreq: {} vcpu {} refused: {}", who.domain_uuid, who.vcpu, why);
    refusals_[who.domain_uuid] = why;
    return PowerVerdict{false, std::move(why), {}, shared_hardware};
}

PowerVerdict Arbiter::apply(const Requester& who, const CpuSet& pcpus, PowerAction action,
                            const FrequencyLimits& limits) {
    if (!backend_) return refuse(who, "no cpufreq under " + sysfs_->root().string());
    if (limits.floor_khz > limits.ceiling_khz) {
        return refuse(who, fmt::format("floor {} kHz above ceiling {} kHz", limits.floor_khz,
                                       limits.ceiling_khz));
    }
    std::string why;
    std::vector<std::size_t>& policies = plan_policies_;
    if (!resolve(pcpus, policies, why)) return refuse(who, why);
    for (std::size_t p : policies) {
        if (!states_[p].recheck) continue;
        const CpufreqPolicy& pol = topology_.policy(p);
        if (auto bad = backend_->unusable(pol)) {
            return refuse(who, fmt::format("{} is not usable since a write failed: {}", pol.dir,
                                           *bad));
        }
        states_[p].recheck = false;
    }

    // Plan everything before writing anything: all or nothing.
    const HolderView key{who.domain_uuid, who.vcpu};
    std::vector<Hold>& planned = plan_holds_;
    planned.clear();
    std::set<std::size_t> knobs;
    for (std::size_t p : policies) {
        const CpufreqPolicy& pol = topology_.policy(p);
        const PolicyState& s = states_[p];
        auto held = s.holds.find(key);
        Hold h = held == s.holds.end() ? Hold{} : held->second;
        if (isTurbo(action)) {
            if (!s.knob) return refuse(who, fmt::format("{} has no turbo switch", pol.dir));
            h.turbo = action == PowerAction::EnableTurbo;
            knobs.insert(*s.knob);
            if (!*h.turbo && foundOn(*s.knob)) {
                if (auto b = knobBlocker(*s.knob, who.domain_uuid)) {
                    return refuse(who,
                                  fmt::format("turbo switch {} is shared with {}, which asked "
                                              "for no turbo setting; turbo may only be turned on",
                                              knobs_[*s.knob].knob.file, *b),
                                  true);
                }
            }
        } else {
            h.khz = chooseLevel(p, key, action, limits, why);
            if (!h.khz) return refuse(who, why);
            if (*h.khz < foundCeiling(p)) {
                if (auto b = blocker(p, who.domain_uuid))
                    return refuse(who, refusalFor(p, *b), true);
            }
        }
        planned.push_back(h);
    }

    std::vector<std::optional<Hold>>& before = plan_before_;
    before.clear();
    for (std::size_t i = 0; i < policies.size(); ++i) {
        const auto& holds = states_[policies[i]].holds;
        auto it = holds.find(key);
        before.push_back(it == holds.end() ? std::nullopt : std::optional<Hold>(it->second));
        setHold(policies[i], key, planned[i]);
    }
    try {
        for (std::size_t p : policies) reconcile(p);
        for (std::size_t k : knobs) reconcileKnob(k);
    } catch (const std::exception& e) {
        // A write failed half way (the kernel refusing, I/O, or the tree
        // changed since it was validated): put the previous holds back, and
        // validate these policies again before their next request.
        spdlog::error("cpufreq: {} for {} vcpu {} failed: {}; undoing", powerActionName(action),
                      who.domain_uuid, who.vcpu, e.what());
        for (std::size_t i = 0; i < policies.size(); ++i) setHold(policies[i], key, before[i]);
        for (std::size_t p : policies) states_[p].recheck = true;
        try {
            for (std::size_t p : policies) reconcile(p);
            for (std::size_t k : knobs) reconcileKnob(k);
        } catch (const std::exception& again) {
            spdlog::error("cpufreq: undo failed too: {}", again.what());
        }
        return refuse(who, std::string("writing cpufreq failed: ") + e.what());
    }

    // Who else runs on what was just written: the operator is told (only
    // then: it costs a walk over the stakeholders).
    PowerVerdict verdict{true, {}, {}};
    if (who.domain_uuid != kOperatorUuid) return verdict;
    Names others;
    if (knobs.empty()) {
        for (std::size_t p : policies)
            others.insert(states_[p].stakeholders.begin(), states_[p].stakeholders.end());
    } else {
        for (std::size_t k : knobs)
            others.insert(knobs_[k].stakeholders.begin(), knobs_[k].stakeholders.end());
    }
    for (const auto& uuid : others) {
        if (uuid != who.domain_uuid) verdict.affected.push_back(nameOf(uuid));
    }
    return verdict;
}

void Arbiter::reconcile(std::size_t policy) {
    PolicyState& s = states_[policy];
    const CpufreqPolicy& pol = topology_.policy(policy);
    std::optional<std::uint32_t> target;
    if (!s.levels.empty()) target = *s.levels.rbegin();  // the highest hold wins
    std::optional<std::string> blocked;
    if (target && *target < foundCeiling(policy)) blocked = blocker(policy, {});
    if (!target || blocked) {
        if (journal_.has(pol.name)) {
            journal_.restore(pol.name);  // a failed one stays journaled: retried later
            if (blocked) {
                spdlog::info(
                    "cpufreq: {} restored: {} runs there and asked for no frequency; "
                    "the holds take effect again when it leaves",
                    pol.dir, *blocked);
            } else {
                spdlog::info("cpufreq: {} restored (no requests held)", pol.dir);
            }
        }
        s.applied_khz.reset();
        s.prepared = false;
        if (!journal_.has(pol.name)) s.found_ceiling.reset();
        return;
    }
    if (!s.prepared) {
        if (!journal_.has(pol.name)) {
            s.found_ceiling = backend_->foundCeiling(pol);           // what the journal records
            journal_.record(pol.name, backend_->touchedFiles(pol));  // before the first write
        }
        s.applied_khz.reset();
        backend_->prepare(pol);
        s.prepared = true;
    }
    if (s.applied_khz != target) {
        backend_->setFrequency(pol, *target);
        s.applied_khz = target;
        spdlog::debug("cpufreq: {} at {} kHz", pol.dir, *target);
    }
}

void Arbiter::reconcileKnob(std::size_t knob) {
    KnobState& k = knobs_[knob];
    const std::string group = knobGroup(k.knob.file);
    std::optional<bool> want;
    if (k.on > 0) {
        want = true;
    } else if (k.off > 0 && (!foundOn(knob) || !knobBlocker(knob, {}))) {
        want = false;
    }
    if (!want) {
        if (journal_.has(group)) journal_.restore(group);
        k.applied.reset();
        if (!journal_.has(group)) k.found_on.reset();
        return;
    }
    if (k.applied == want) return;
    if (!journal_.has(group)) {
        k.found_on = foundOn(knob);
        journal_.record(group, {k.knob.file});
    }
    sysfs_->write(k.knob.file, *want != k.knob.inverted ? "1\n" : "0\n");
    k.applied = want;
}

void Arbiter::reconcileQuietly(const std::set<std::size_t>& policies,
                               const std::set<std::size_t>& knobs, std::string_view what) {
    for (std::size_t p : policies) {
        try {
            reconcile(p);
        } catch (const std::exception& e) {
            spdlog::error("cpufreq: {} on {}: {}", what, topology_.policy(p).dir, e.what());
        }
    }
    for (std::size_t k : knobs) {
        try {
            reconcileKnob(k);
        } catch (const std::exception& e) {
            spdlog::error("cpufreq: {}: turbo {}: {}", what, knobs_[k].knob.file, e.what());
        }
    }
}

// --- stakeholders ---

void Arbiter::release(std::string_view domain_uuid) {
    if (auto r = refusals_.find(domain_uuid); r != refusals_.end()) refusals_.erase(r);
    if (!backend_) {
        footprints_.erase(std::string(domain_uuid));
        return;
    }
    std::set<std::size_t> policies, knobs;
    for (std::size_t p = 0; p < states_.size(); ++p) {
        auto& holds = states_[p].holds;
        std::vector<HolderKey> drop;
        for (auto it = holds.lower_bound(HolderView{domain_uuid, 0});
             it != holds.end() && it->first.first == domain_uuid; ++it) {
            drop.push_back(it->first);
        }
        for (const auto& key : drop) setHold(p, key, std::nullopt);
        if (!drop.empty()) {
            policies.insert(p);
            if (states_[p].knob) knobs.insert(*states_[p].knob);
        }
    }
    auto fp = footprints_.find(domain_uuid);
    if (fp != footprints_.end()) {
        const std::string uuid = fp->first;
        for (std::size_t p : fp->second.policies) {
            setStake(p, uuid, false);
            policies.insert(p);
            if (auto k = states_[p].knob) {
                setKnobStake(*k, uuid, false);
                knobs.insert(*k);
            }
        }
        for (std::size_t k : global_knobs_) {
            setKnobStake(k, uuid, false);
            knobs.insert(k);
        }
        footprints_.erase(fp);
    }
    reconcileQuietly(policies, knobs, fmt::format("releasing {}", domain_uuid));
}

void Arbiter::releaseVcpuOutside(std::string_view domain_uuid, unsigned vcpu,
                                 const CpuSet& pinned) {
    if (!backend_) return;
    std::set<std::size_t> policies, knobs;
    const HolderView key{domain_uuid, vcpu};
    for (std::size_t p = 0; p < states_.size(); ++p) {
        if (topology_.policy(p).cpus.intersects(pinned) || !states_[p].holds.contains(key))
            continue;
        setHold(p, key, std::nullopt);
        policies.insert(p);
        if (states_[p].knob) knobs.insert(*states_[p].knob);
    }
    reconcileQuietly(policies, knobs, fmt::format("releasing {}", domain_uuid));
}

bool Arbiter::restoreAll() {
    for (std::size_t p = 0; p < states_.size(); ++p) {
        std::vector<HolderKey> keys;
        for (const auto& [key, hold] : states_[p].holds) keys.push_back(key);
        for (const auto& key : keys) setHold(p, key, std::nullopt);
        states_[p].applied_khz.reset();
        states_[p].found_ceiling.reset();
        states_[p].prepared = false;
    }
    for (auto& k : knobs_) {
        k.applied.reset();
        k.found_on.reset();
    }
    return journal_.restoreAll();
}

}  // namespace vmpower
