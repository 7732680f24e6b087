#include "arbiter.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <span>

#include "cpufreq_error.h"
#include "log.h"
#include "power_action.h"

namespace vmpower {

namespace {

bool isTurbo(PowerAction a) {
    return a == PowerAction::EnableTurbo || a == PowerAction::DisableTurbo;
}

}  // namespace

Arbiter::Arbiter(std::unique_ptr<Sysfs> sysfs, CpufreqTopology topology,
                 std::unique_ptr<CpufreqBackend> backend, const std::filesystem::path& journal_file,
                 CpuSet host_cpus, std::string boot_id, bool host_everywhere)
    : writer_(std::move(sysfs), std::move(topology), std::move(backend), journal_file,
              std::move(boot_id)),
      holds_(writer_.switchOfEach(), writer_.switchLayout().size()),
      host_cpus_(std::move(host_cpus)),
      stakeholders_(writer_.topology(), holds_, writer_.drives(), host_cpus_, host_everywhere,
                    writer_.switchOfEach(), writer_.switchLayout()) {
    if (writer_.drives() && !host_cpus_.empty()) {
        LOG(Cpufreq).info("cpufreq: host CPUs {} are stakeholders of every policy covering them",
                          host_cpus_.toString());
    }
}

Arbiter::~Arbiter() {
    try {
        restoreAll();
    } catch (const std::exception& e) {
        LOG(Cpufreq).error("cpufreq: restore at shutdown failed: {}", e.what());
    }
}

Verdict Arbiter::resolve(const CpuSet& pcpus, std::vector<CpufreqDomain>& out) const {
    out.clear();
    if (pcpus.empty()) return Verdict::refused("the request names no CPU");
    std::string why;
    pcpus.forEach([&](unsigned cpu) {
        if (!why.empty()) return;
        auto d = topology().domainOf(cpu);
        if (!d) {
            why = fmt::format("cpu{} has no cpufreq policy under {}", cpu,
                              writer_.sysfs().root().string());
        } else if (writer_.steps(*d).empty()) {
            why = fmt::format("cpu{} ({}) is not usable: {}", cpu, topology().policy(*d).dir,
                              writer_.unusable(*d));
        } else if (std::find(out.begin(), out.end(), *d) == out.end()) {
            out.push_back(*d);
        }
    });
    return why.empty() ? Verdict::accepted() : Verdict::refused(std::move(why));
}

Checked<std::uint32_t> Arbiter::chooseLevel(CpufreqDomain d, const Requester& who,
                                            PowerAction action,
                                            const FrequencyLimits& limits) const {
    // The steps within the limits: a range of the ascending list, not a copy
    // (no allocation per request).
    const auto& steps = writer_.steps(d);
    const auto lo = std::lower_bound(steps.begin(), steps.end(), limits.floor_khz);
    const std::span<const std::uint32_t> allowed(
        lo, std::upper_bound(lo, steps.end(), limits.ceiling_khz));
    if (allowed.empty()) {
        return Checked<std::uint32_t>::refused(
            fmt::format("no frequency of {} lies in [{}, {}] kHz", topology().policy(d).dir,
                        limits.floor_khz, limits.ceiling_khz));
    }
    const Hold* held = holds_.find(d, who);
    std::optional<std::uint32_t> base = held && held->khz ? held->khz : writer_.frequencyOf(d);
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
            return Checked<std::uint32_t>::refused("not a frequency action");
    }
}

std::string Arbiter::refusalFor(CpufreqDomain d, const std::string& who) const {
    const CpufreqPolicy& pol = topology().policy(d);
    const std::string what = fmt::format("{} (CPUs {})", pol.name, pol.cpus.toString());
    if (who.starts_with("host CPU")) {
        return fmt::format("{} covers {}, which never asks; only raising to >= {} kHz is allowed",
                           what, who, writer_.foundCeiling(d));
    }
    return fmt::format(
        "{} is shared with {}, which asked for no frequency there; only raising to >= {} kHz "
        "is allowed",
        what, who, writer_.foundCeiling(d));
}

void Arbiter::setHold(CpufreqDomain d, const Requester& who, std::optional<Hold> hold) {
    stakeholders_.held(d, who, holds_.set(d, who, hold));
}

// The operator's precedence, in one place: while it holds a level on a
// policy (or a wish on a turbo switch), that is what the hardware does, and
// nobody else's request there is taken until the operator releases it.
std::optional<PowerVerdict> Arbiter::heldByOperator(const Requester& who, CpufreqDomain d,
                                                    bool turbo) {
    if (who.isOperator()) return std::nullopt;
    const CpufreqPolicy& pol = topology().policy(d);
    if (turbo) {
        const auto s = writer_.switchOf(d);
        if (!s || !holds_.operatorWishes(*s)) return std::nullopt;
        PowerVerdict v = refuse(who, fmt::format("turbo switch {} is held by the operator until "
                                                 "`vmpowerctl release-cpu-freq`",
                                                 writer_.knob(*s).file));
        v.held_by_operator = true;
        return v;
    }
    if (!holds_.operatorHoldsLevel(d)) return std::nullopt;
    PowerVerdict v = refuse(who, fmt::format("{} (CPUs {}) is held by the operator until "
                                             "`vmpowerctl release-cpu-freq`",
                                             pol.name, pol.cpus.toString()));
    v.held_by_operator = true;
    return v;
}

PowerVerdict Arbiter::refuse(const Requester& who, std::string why, bool shared_hardware) {
    LOG(Cpufreq).debug("cpufreq: {} refused: {}", who.toString(), why);
    if (!who.isOperator()) refusals_[who.domainUuid()] = why;
    return PowerVerdict{false, std::move(why), {}, shared_hardware};
}

PowerVerdict Arbiter::apply(const Requester& who, const CpuSet& pcpus, PowerAction action,
                            const FrequencyLimits& limits) {
    if (!writer_.drives())
        return refuse(who, "no cpufreq under " + writer_.sysfs().root().string());
    if (limits.floor_khz > limits.ceiling_khz) {
        return refuse(who, fmt::format("floor {} kHz above ceiling {} kHz", limits.floor_khz,
                                       limits.ceiling_khz));
    }
    if (Verdict resolved = resolve(pcpus, plan_domains_); !resolved)
        return refuse(who, resolved.reason());
    for (CpufreqDomain d : plan_domains_) {
        if (Verdict usable = writer_.checkAgain(d); !usable) {
            return refuse(who, fmt::format("{} is not usable since a write failed: {}",
                                           topology().policy(d).dir, usable.reason()));
        }
    }
    // Plan everything before writing anything: all or nothing.
    if (auto refused = plan(who, action, limits)) return *refused;
    if (auto refused = commit(who, action)) return *refused;
    // Who else runs on what was just written: the operator is told (only
    // then: it costs a walk over the stakeholders).
    PowerVerdict verdict{true, {}, {}};
    if (who.isOperator()) verdict.affected = affected();
    return verdict;
}

std::optional<PowerVerdict> Arbiter::plan(const Requester& who, PowerAction action,
                                          const FrequencyLimits& limits) {
    plan_holds_.clear();
    plan_switches_.clear();
    for (CpufreqDomain d : plan_domains_) {
        const CpufreqPolicy& pol = topology().policy(d);
        if (auto held_by_operator = heldByOperator(who, d, isTurbo(action)))
            return held_by_operator;
        const Hold* held = holds_.find(d, who);
        Hold h = held ? *held : Hold{};
        if (isTurbo(action)) {
            auto s = writer_.switchOf(d);
            if (!s) return refuse(who, fmt::format("{} has no turbo switch", pol.dir));
            h.turbo = action == PowerAction::EnableTurbo;
            plan_switches_.insert(*s);
            if (!*h.turbo && writer_.foundOn(*s)) {
                if (auto b = stakeholders_.switchBlocker(*s, &who)) {
                    return refuse(who,
                                  fmt::format("turbo switch {} is shared with {}, which asked "
                                              "for no turbo setting; turbo may only be turned on",
                                              writer_.knob(*s).file, *b),
                                  true);
                }
            }
        } else {
            const Checked<std::uint32_t> level = chooseLevel(d, who, action, limits);
            if (!level) return refuse(who, level.reason());
            h.khz = *level;
            if (*h.khz < writer_.foundCeiling(d)) {
                if (auto b = stakeholders_.blocker(d, &who))
                    return refuse(who, refusalFor(d, *b), true);
            }
        }
        plan_holds_.push_back(h);
    }
    return std::nullopt;
}

std::optional<PowerVerdict> Arbiter::commit(const Requester& who, PowerAction action) {
    const std::vector<CpufreqDomain>& domains = plan_domains_;
    plan_before_.clear();
    for (std::size_t i = 0; i < domains.size(); ++i) {
        const Hold* held = holds_.find(domains[i], who);
        plan_before_.push_back(held ? std::optional<Hold>(*held) : std::nullopt);
        setHold(domains[i], who, plan_holds_[i]);
    }
    try {
        for (CpufreqDomain d : domains) reconcile(d);
        for (TurboSwitch s : plan_switches_) reconcile(s);
        return std::nullopt;
    } catch (const std::exception& e) {
        // A write failed half way (the kernel refusing, I/O, or the tree
        // changed since it was validated): put the previous holds back, and
        // validate these domains again before their next request.
        LOG(Cpufreq).error("cpufreq: {} for {} failed: {}; undoing", powerActionName(action),
                           who.toString(), e.what());
        for (std::size_t i = 0; i < domains.size(); ++i) setHold(domains[i], who, plan_before_[i]);
        for (CpufreqDomain d : domains) writer_.recheck(d);
        try {
            for (CpufreqDomain d : domains) reconcile(d);
            for (TurboSwitch s : plan_switches_) reconcile(s);
        } catch (const std::exception& again) {
            LOG(Cpufreq).error("cpufreq: undo failed too: {}", again.what());
        }
        return refuse(who, std::string("writing cpufreq failed: ") + e.what());
    }
}

std::vector<std::string> Arbiter::affected() const {
    Stakeholders::Names others;
    if (plan_switches_.empty()) {
        for (CpufreqDomain d : plan_domains_)
            others.insert(stakeholders_.of(d).begin(), stakeholders_.of(d).end());
    } else {
        for (TurboSwitch s : plan_switches_)
            others.insert(stakeholders_.of(s).begin(), stakeholders_.of(s).end());
    }
    std::vector<std::string> names;
    for (const auto& uuid : others) names.push_back(stakeholders_.nameOf(uuid));
    return names;
}

void Arbiter::reconcile(CpufreqDomain d) {
    // The operator's level while it holds one; else the highest hold wins.
    std::optional<std::uint32_t> target = holds_.operatorLevel(d);
    if (!target) target = holds_.highest(d);
    std::optional<std::string> blocked;
    if (target && *target < writer_.foundCeiling(d)) blocked = stakeholders_.blocker(d, nullptr);
    writer_.write(d, target, blocked);
}

void Arbiter::reconcile(TurboSwitch s) {
    std::optional<bool> want = holds_.operatorWish(s);  // the operator's, while it has one
    if (!want && holds_.wishesOn(s) > 0) {
        want = true;
    } else if (!want && holds_.wishesOff(s) > 0 &&
               (!writer_.foundOn(s) || !stakeholders_.switchBlocker(s, nullptr))) {
        want = false;
    }
    writer_.write(s, want);
}

void Arbiter::reconcileQuietly(const Touched& touched, std::string_view what) {
    for (CpufreqDomain d : touched.domains) {
        try {
            reconcile(d);
        } catch (const std::exception& e) {
            LOG(Cpufreq).error("cpufreq: {} on {}: {}", what, topology().policy(d).dir, e.what());
        }
    }
    for (TurboSwitch s : touched.switches) {
        try {
            reconcile(s);
        } catch (const std::exception& e) {
            LOG(Cpufreq).error("cpufreq: {}: turbo {}: {}", what, writer_.knob(s).file, e.what());
        }
    }
}

// --- stakeholders come and go ---

void Arbiter::setFootprint(std::string_view domain_uuid, std::string_view name,
                           const CpuSet& cpus) {
    Touched touched = stakeholders_.setFootprint(domain_uuid, name, cpus);
    reconcileQuietly(touched, fmt::format("footprint of {}", name));
}

void Arbiter::release(std::string_view domain_uuid) {
    if (auto r = refusals_.find(domain_uuid); r != refusals_.end()) refusals_.erase(r);
    if (!writer_.drives()) {
        stakeholders_.remove(domain_uuid);
        return;
    }
    Touched touched;
    for (std::size_t i = 0; i < topology().domainCount(); ++i) {
        const CpufreqDomain d{static_cast<std::uint32_t>(i)};
        const std::vector<Requester> drop = holds_.holdersOf(d, domain_uuid);
        for (const auto& who : drop) setHold(d, who, std::nullopt);
        if (!drop.empty()) {
            touched.domains.insert(d);
            if (auto s = writer_.switchOf(d)) touched.switches.insert(*s);
        }
    }
    Touched left = stakeholders_.remove(domain_uuid);
    touched.domains.merge(left.domains);
    touched.switches.merge(left.switches);
    reconcileQuietly(touched, fmt::format("releasing {}", domain_uuid));
}

template <typename Pred>
void Arbiter::dropHolds(const Requester& who, Pred drop) {
    if (!writer_.drives()) return;
    Touched touched;
    for (std::size_t i = 0; i < topology().domainCount(); ++i) {
        const CpufreqDomain d{static_cast<std::uint32_t>(i)};
        if (!drop(d) || !holds_.find(d, who)) continue;
        setHold(d, who, std::nullopt);
        touched.domains.insert(d);
        if (auto s = writer_.switchOf(d)) touched.switches.insert(*s);
    }
    reconcileQuietly(touched, fmt::format("releasing {}", who.domainUuid()));
}

void Arbiter::releaseOutside(const Requester& who, const CpuSet& pinned) {
    dropHolds(who, [&](CpufreqDomain d) { return !topology().policy(d).cpus.intersects(pinned); });
}

void Arbiter::releaseHolder(const Requester& who) {
    dropHolds(who, [](CpufreqDomain) { return true; });
}

bool Arbiter::restoreAll() {
    for (std::size_t i = 0; i < topology().domainCount(); ++i) {
        const CpufreqDomain d{static_cast<std::uint32_t>(i)};
        std::vector<Requester> holders;
        for (const auto& [who, hold] : holds_.holds(d)) holders.push_back(who);
        for (const auto& who : holders) setHold(d, who, std::nullopt);
    }
    return writer_.restoreAll();
}

}  // namespace vmpower
