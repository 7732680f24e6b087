#include "arbiter.h"

#include <spdlog/spdlog.h>

#include <algorithm>

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
                 std::unique_ptr<CpufreqBackend> backend, const std::filesystem::path& journal_file)
    : sysfs_(std::move(sysfs)),
      topology_(std::move(topology)),
      backend_(std::move(backend)),
      journal_(*sysfs_, journal_file),
      states_(topology_.policies().size()),
      high_priority_(topology_.policies().size(), false) {
    if (!backend_) return;
    std::vector<std::optional<std::uint32_t>> base(states_.size());
    for (std::size_t i = 0; i < states_.size(); ++i) {
        const CpufreqPolicy& p = topology_.policy(i);
        try {
            states_[i].steps = backend_->frequencySteps(p);
            states_[i].knob = backend_->turboKnob(p);
        } catch (const CpufreqError& e) {
            // One broken policy must not take the others down: refuse it.
            spdlog::warn("cpufreq: {} cannot be used, its CPUs will be refused: {}", p.dir,
                         e.what());
            states_[i].steps.clear();
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

std::optional<std::vector<std::size_t>> Arbiter::resolve(const CpuSet& pcpus) const {
    if (pcpus.empty()) {
        spdlog::warn("cpufreq: request names no CPU; refused");
        return std::nullopt;
    }
    std::vector<std::size_t> out;
    for (unsigned cpu : pcpus.cpus()) {
        auto p = topology_.policyOf(cpu);
        if (!p) {
            spdlog::warn("cpufreq: cpu{} has no cpufreq policy under {}; request refused", cpu,
                         sysfs_->root().string());
            return std::nullopt;
        }
        if (states_[*p].steps.empty()) {
            spdlog::warn("cpufreq: cpu{} ({}) is not usable; request refused", cpu,
                         topology_.policy(*p).dir);
            return std::nullopt;
        }
        if (std::find(out.begin(), out.end(), *p) == out.end()) out.push_back(*p);
    }
    return out;
}

std::optional<std::uint32_t> Arbiter::frequencyOf(std::size_t policy) const {
    if (states_[policy].applied_khz) return states_[policy].applied_khz;
    return backend_->currentFrequency(topology_.policy(policy));
}

std::optional<std::uint32_t> Arbiter::chooseLevel(std::size_t policy, const HolderKey& key,
                                                  PowerAction action,
                                                  const FrequencyLimits& limits) const {
    std::vector<std::uint32_t> allowed;
    for (std::uint32_t f : states_[policy].steps) {
        if (f >= limits.floor_khz && f <= limits.ceiling_khz) allowed.push_back(f);
    }
    if (allowed.empty()) {
        spdlog::warn("cpufreq: no frequency of {} lies in [{}, {}] kHz; request refused",
                     topology_.policy(policy).dir, limits.floor_khz, limits.ceiling_khz);
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
        default:
            return std::nullopt;
    }
}

bool Arbiter::apply(const Requester& who, const CpuSet& pcpus, PowerAction action,
                    const FrequencyLimits& limits) {
    if (!backend_) {
        spdlog::warn("cpufreq: no cpufreq under {}; {} from {} vcpu {} refused",
                     sysfs_->root().string(), powerActionName(action), who.domain_uuid, who.vcpu);
        return false;
    }
    if (limits.floor_khz > limits.ceiling_khz) {
        spdlog::warn("cpufreq: floor {} kHz above ceiling {} kHz for {}; refused", limits.floor_khz,
                     limits.ceiling_khz, who.domain_uuid);
        return false;
    }
    auto policies = resolve(pcpus);
    if (!policies) return false;

    // Plan everything before writing anything: all or nothing.
    const HolderKey key{who.domain_uuid, who.vcpu};
    std::vector<Hold> planned;
    for (std::size_t p : *policies) {
        const CpufreqPolicy& pol = topology_.policy(p);
        if (auto why = backend_->unusable(pol)) {
            spdlog::warn("cpufreq: {}; request refused", *why);
            return false;
        }
        auto held = states_[p].holds.find(key);
        Hold h = held == states_[p].holds.end() ? Hold{} : held->second;
        if (isTurbo(action)) {
            if (!states_[p].knob) {
                spdlog::warn("cpufreq: {} has no turbo switch; {} refused", pol.dir,
                             powerActionName(action));
                return false;
            }
            h.turbo = action == PowerAction::EnableTurbo;
        } else {
            h.khz = chooseLevel(p, key, action, limits);
            if (!h.khz) return false;
        }
        planned.push_back(h);
    }

    std::vector<std::optional<Hold>> before;
    for (std::size_t i = 0; i < policies->size(); ++i) {
        auto& holds = states_[(*policies)[i]].holds;
        auto it = holds.find(key);
        before.push_back(it == holds.end() ? std::nullopt : std::optional<Hold>(it->second));
        holds[key] = planned[i];
    }
    try {
        for (std::size_t p : *policies) reconcile(p);
        reconcileKnobs();
    } catch (const std::exception& e) {
        // A write failed half way (the tree was validated, so this is the
        // kernel refusing or I/O): put the previous holds back.
        spdlog::error("cpufreq: {} for {} vcpu {} failed: {}; undoing", powerActionName(action),
                      who.domain_uuid, who.vcpu, e.what());
        for (std::size_t i = 0; i < policies->size(); ++i) {
            auto& holds = states_[(*policies)[i]].holds;
            if (before[i])
                holds[key] = *before[i];
            else
                holds.erase(key);
        }
        try {
            for (std::size_t p : *policies) reconcile(p);
            reconcileKnobs();
        } catch (const std::exception& again) {
            spdlog::error("cpufreq: undo failed too: {}", again.what());
        }
        return false;
    }
    return true;
}

void Arbiter::reconcile(std::size_t policy) {
    PolicyState& s = states_[policy];
    const CpufreqPolicy& pol = topology_.policy(policy);
    std::optional<std::uint32_t> target;
    for (const auto& [key, hold] : s.holds) {
        if (hold.khz && (!target || *hold.khz > *target)) target = hold.khz;
    }
    if (!target) {
        if (journal_.has(pol.name)) {
            journal_.restore(pol.name);
            spdlog::info("cpufreq: {} restored (no requests held)", pol.dir);
        }
        s.applied_khz.reset();
        return;
    }
    if (!journal_.has(pol.name)) {
        journal_.record(pol.name, backend_->touchedFiles(pol));  // before the first write
        s.applied_khz.reset();
        backend_->prepare(pol);
    }
    if (s.applied_khz != target) {
        backend_->setFrequency(pol, *target);
        s.applied_khz = target;
        spdlog::debug("cpufreq: {} at {} kHz", pol.dir, *target);
    }
}

void Arbiter::reconcileKnobs() {
    struct Wish {
        TurboKnob knob;
        bool any_on = false;
        bool any_off = false;
    };
    std::map<std::string, Wish> wishes;
    for (const auto& s : states_) {
        if (!s.knob) continue;
        Wish& w = wishes.try_emplace(s.knob->file, Wish{*s.knob}).first->second;
        for (const auto& [key, hold] : s.holds) {
            if (hold.turbo) (*hold.turbo ? w.any_on : w.any_off) = true;
        }
    }
    for (const auto& [file, w] : wishes) {
        const std::string group = knobGroup(file);
        KnobState& ks = knobs_[file];
        if (!w.any_on && !w.any_off) {
            if (journal_.has(group)) journal_.restore(group);
            ks.applied.reset();
            continue;
        }
        const bool on = w.any_on;
        if (ks.applied == on) continue;
        journal_.record(group, {file});
        sysfs_->write(file, on != w.knob.inverted ? "1\n" : "0\n");
        ks.applied = on;
    }
}

template <typename HoldPred, typename PolicyPred>
void Arbiter::releaseWhere(std::string_view what, HoldPred drop, PolicyPred in_policy) {
    for (std::size_t p = 0; p < states_.size(); ++p) {
        if (!in_policy(p)) continue;
        if (std::erase_if(states_[p].holds, drop) == 0) continue;
        try {
            reconcile(p);
        } catch (const std::exception& e) {
            spdlog::error("cpufreq: releasing {} on {}: {}", what, topology_.policy(p).dir,
                          e.what());
        }
    }
    try {
        reconcileKnobs();
    } catch (const std::exception& e) {
        spdlog::error("cpufreq: releasing {}: turbo: {}", what, e.what());
    }
}

void Arbiter::release(std::string_view domain_uuid) {
    releaseWhere(
        domain_uuid, [&](const auto& kv) { return kv.first.first == domain_uuid; },
        [](std::size_t) { return true; });
}

void Arbiter::releaseVcpuOutside(std::string_view domain_uuid, unsigned vcpu,
                                 const CpuSet& pinned) {
    releaseWhere(
        domain_uuid,
        [&](const auto& kv) { return kv.first.first == domain_uuid && kv.first.second == vcpu; },
        [&](std::size_t p) { return !topology_.policy(p).cpus.intersects(pinned); });
}

bool Arbiter::restoreAll() {
    for (auto& s : states_) {
        s.holds.clear();
        s.applied_khz.reset();
    }
    knobs_.clear();
    return journal_.restoreAll();
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
