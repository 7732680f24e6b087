#include "host_policy_engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

#include "log.h"
#include "power_decision.h"

namespace vmpower {

namespace {

PowerAction actionFor(PolicyLevel level) {
    switch (level) {
        case PolicyLevel::Max:
            return PowerAction::Max;
        case PolicyLevel::Middle:
            return PowerAction::Middle;
        case PolicyLevel::Min:
            break;
    }
    return PowerAction::Min;
}

std::string typeName(HostPolicyType t) {
    return std::string(nameIn(kHostPolicyTypeNames, t));
}

bool contains(const std::vector<unsigned>& v, unsigned x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

std::string allowedNames(const AccessRule& rule) {
    std::string names;
    for (HostPolicyType t : rule.allowed_policies)
        names += (names.empty() ? "" : ", ") + typeName(t);
    return names.empty() ? std::string("none") : names;
}

// `gone` lets go of its branch counters, unless `successor` counts too:
// the counters are the VM's, and the successor opened them again.
void retire(RunningPolicy& gone, const RunningPolicy* successor) {
    if (successor == nullptr || !successor->needs().branches) gone.stop();
}

}  // namespace

const char* originName(PolicyOrigin origin) {
    return nameIn(kPolicyOriginNames, origin).data();
}

HostPolicyEngine::HostPolicyEngine(PowerControl& power, const PcpuSharing& sharing,
                                   const RulesInForce& rules, FindGuest find, ArmTimer arm,
                                   HostPolicyEdges edges, HostPolicySettings settings)
    : power_(power),
      sharing_(sharing),
      rules_(rules),
      find_(std::move(find)),
      arm_(std::move(arm)),
      edges_(edges),
      settings_(settings),
      traffic_(edges.traffic, edges.clock, settings.traffic_interval,
               settings.traffic_interval_cap) {}

HostPolicyEngine::~HostPolicyEngine() {
    for (auto& [uuid, a] : active_) a.running->stop();
}

Verdict HostPolicyEngine::admit(const GuestIdentity& guest, const AccessRule& rule,
                                const HostPolicy& policy) {
    if (!rule.allowed_policies.contains(policy.type)) {
        return Verdict::refused("policy " + typeName(policy.type) + " not allowed by the rule '" +
                                rule.name + "' (policies: " + allowedNames(rule) + ")");
    }
    const std::size_t vcpu_count = guest.vcpus ? guest.vcpus->vcpuCount() : 0;
    if (policy.vcpus.empty()) return Verdict::refused("the policy names no vCPU");
    for (unsigned v : policy.vcpus) {
        if (v >= vcpu_count) {
            return Verdict::refused("vCPU " + std::to_string(v) + " out of range (the VM has " +
                                    std::to_string(vcpu_count) + ")");
        }
    }
    return Verdict::accepted();
}

Verdict HostPolicyEngine::set(const GuestIdentity& guest, HostPolicy policy, PolicyOrigin origin) {
    const AccessRule* rule = rules_->match(guest.name, guest.uuid);
    if (rule == nullptr) return Verdict::refused("no policy rule matches this VM");
    if (Verdict admitted = admit(guest, *rule, policy); !admitted) return admitted;
    // The policy in force again (a guest re-sending its PKT_POLICY): no
    // work — no apply, no perf reopen, no fresh samples, no log line. One
    // whose last decision was refused is tried afresh. An hourly one only
    // re-arms the timer: the host's clock may have been set since.
    if (auto it = active_.find(guest.uuid);
        it != active_.end() && it->second.view.origin == origin &&
        it->second.view.refusal.empty() && it->second.view.policy == policy) {
        if (it->second.running->needs().hour) rearm();
        return Verdict::accepted();
    }
    auto running = startPolicy(policy, guest, edges_, settings_);
    if (!running) return running.verdict();
    Active next{.view = {.policy = std::move(policy), .origin = origin},
                .name = guest.name,
                .running = std::move(*running)};
    return replace(guest, *rule, std::move(next));
}

Verdict HostPolicyEngine::replace(const GuestIdentity& guest, const AccessRule& rule, Active next) {
    const HostPolicy& p = next.view.policy;
    const PolicyDecision decision = next.running->decide();
    auto old = active_.find(guest.uuid);
    RunningPolicy* old_running = old != active_.end() ? old->second.running.get() : nullptr;
    Verdict held = hold(guest, rule, p, decision.level);
    if (!held) {
        // Nothing of the new policy stays held; the old one holds again.
        if (old != active_.end()) {
            (void)hold(guest, rule, old->second.view.policy, old->second.view.level);
        }
        retire(*next.running, old_running);
        return held;
    }
    if (old != active_.end()) {
        for (unsigned v : old->second.view.policy.vcpus) {
            if (!contains(p.vcpus, v)) releaseHold(guest.uuid, v);
        }
        retire(*old_running, next.running.get());
    }
    next.view.level = decision.level;
    next.view.decision = decision.words;
    std::uint64_t suppressed = 0;
    if (allowChangeLine(guest.uuid, suppressed)) {
        LOG(HostPolicy)
            .info("vm {}: {} policy {} on vCPUs {} set by the {}: {}{}", guest.name,
                  old != active_.end() ? "replaced by" : "new", typeName(p.type),
                  fmt::join(p.vcpus, ","), originName(next.view.origin), decision.words,
                  suppressedNote(suppressed));
    }
    active_.insert_or_assign(guest.uuid, std::move(next));
    rearm();
    notify(guest.uuid);
    return Verdict::accepted();
}

bool HostPolicyEngine::removeHostPolicy(std::string_view uuid) {
    auto it = active_.find(uuid);
    if (it == active_.end() || it->second.view.origin == PolicyOrigin::Rule) return false;
    const std::string key = it->first;
    releaseHolds(uuid, it->second.view.policy);
    drop(it, "removed");
    // Back to the rule's policy, when it has one.
    if (const GuestIdentity* guest = find_(key)) applyRuleDefault(*guest);
    return true;
}

void HostPolicyEngine::applyRuleDefault(const GuestIdentity& guest) {
    settled_.insert(guest.uuid);
    const AccessRule* rule = rules_->match(guest.name, guest.uuid);
    if (rule == nullptr || !rule->host_policy || active_.contains(guest.uuid)) return;
    const Verdict applied = set(guest, *rule->host_policy, PolicyOrigin::Rule);
    if (!applied) {
        LOG(HostPolicy)
            .warn("vm {}: the host_policy of rule '{}' ({}) not applied: {}", guest.name,
                  rule->name, typeName(rule->host_policy->type), applied.reason());
    }
}

void HostPolicyEngine::settle(std::string_view uuid) {
    if (active_.contains(uuid) || settled_.contains(uuid)) return;
    if (const GuestIdentity* guest = find_(uuid)) applyRuleDefault(*guest);
}

bool HostPolicyEngine::allowChangeLine(std::string_view uuid, std::uint64_t& suppressed) {
    const auto now = edges_.clock ? edges_.clock->now() : Clock::TimePoint{};
    return change_log_.allow(uuid, now, suppressed);
}

void HostPolicyEngine::drop(Actives::iterator it, const char* why) {
    std::uint64_t held = 0;
    if (allowChangeLine(it->first, held)) {
        LOG(HostPolicy)
            .info("vm {}: {} policy {}{}", it->second.name, typeName(it->second.view.policy.type),
                  why, suppressedNote(held));
    }
    retire(*it->second.running, nullptr);
    const std::string uuid = it->first;
    active_.erase(it);
    rearm();
    notify(uuid);
}

Requester HostPolicyEngine::holder(std::string_view uuid, unsigned vcpu) {
    return Requester::hostPolicy(uuid, vcpu);
}

void HostPolicyEngine::releaseHold(std::string_view uuid, unsigned vcpu, const CpuSet& keep) {
    if (keep.empty()) {
        power_.releaseHolder(holder(uuid, vcpu));
    } else {
        power_.releaseOutside(holder(uuid, vcpu), keep);
    }
}

void HostPolicyEngine::releaseHolds(std::string_view uuid, const HostPolicy& policy) {
    for (unsigned v : policy.vcpus) releaseHold(uuid, v);
}

Verdict HostPolicyEngine::hold(const GuestIdentity& guest, const AccessRule& rule,
                               const HostPolicy& policy, std::optional<PolicyLevel> level) {
    if (!level) {
        releaseHolds(guest.uuid, policy);
        return Verdict::accepted();
    }
    const PowerAction action = actionFor(*level);
    // The rule's `commands` bound every route: a policy moves a VM only
    // where the VM could have asked for the same itself.
    if (Verdict allowed = commandAllowed(rule, action); !allowed) return allowed;
    // Every vCPU placed before anything is applied.
    std::vector<PowerTarget> targets;
    for (unsigned v : policy.vcpus) {
        PowerDecision d = placePower(rule, guest, CoreType::Virtual, v, action, sharing_);
        if (!d.target) return Verdict::refused(d.refusal);
        d.target->who = holder(guest.uuid, v);
        targets.push_back(std::move(*d.target));
    }
    for (std::size_t i = 0; i < targets.size(); ++i) {
        const PowerTarget& t = targets[i];
        PowerVerdict verdict = power_.apply(t.who, t.pcpus, t.action, rule.limits);
        if (!verdict.applied) {
            for (std::size_t j = 0; j < i; ++j) releaseHold(guest.uuid, policy.vcpus[j]);
            return Verdict::refused("vCPU " + std::to_string(policy.vcpus[i]) +
                                    ": cpufreq refused: " + verdict.refusal);
        }
    }
    return Verdict::accepted();
}

void HostPolicyEngine::evaluate(const std::string& uuid, Active& a, bool force) {
    const GuestIdentity* guest = find_(uuid);
    const AccessRule* rule = guest ? rules_->match(guest->name, guest->uuid) : nullptr;
    if (guest == nullptr || rule == nullptr ||
        !rule->allowed_policies.contains(a.view.policy.type)) {
        // Callers drop it: the domain is gone or its rule forbids it now.
        a.view.refusal = guest == nullptr ? "domain not running" : "not allowed by the rule now";
        return;
    }
    const PolicyDecision decision = a.running->decide();
    a.view.decision = decision.words;
    if (!force && decision.level == a.view.level) return;
    const Verdict held = hold(*guest, *rule, a.view.policy, decision.level);
    if (held) {
        if (decision.level != a.view.level) {
            LOG(HostPolicy)
                .info("vm {}: {} policy: {}", a.name, typeName(a.view.policy.type), decision.words);
        }
        a.view.level = decision.level;
        a.view.refusal.clear();
        return;
    }
    if (held.reason() != a.view.refusal)
        LOG(HostPolicy)
            .warn("vm {}: {} policy: {}, refused: {}", a.name, typeName(a.view.policy.type),
                  decision.words, held.reason());
    a.view.refusal = held.reason();
    (void)hold(*guest, *rule, a.view.policy, a.view.level);  // what held before holds again
}

// A rule's policy follows the reloaded rule: replaced, or dropped when the
// rule has none now or its new one is refused.
void HostPolicyEngine::followReloadedRule(const std::string& uuid) {
    auto it = active_.find(uuid);
    const GuestIdentity* g = find_(uuid);
    if (it->second.view.origin != PolicyOrigin::Rule || g == nullptr) return;
    const AccessRule* rule = rules_->match(g->name, g->uuid);
    if (rule != nullptr && rule->host_policy == it->second.view.policy) return;
    std::string why = "the reloaded rule has no host_policy";
    if (rule != nullptr && rule->host_policy) {
        const Verdict replaced = set(*g, *rule->host_policy, PolicyOrigin::Rule);
        if (replaced) return;
        why = replaced.reason();
    }
    it = active_.find(uuid);
    releaseHolds(uuid, it->second.view.policy);
    LOG(HostPolicy).info("vm {}: the rule's policy goes: {}", g->name, why);
    drop(it, "dropped");
}

void HostPolicyEngine::rulesReplaced() {
    settled_.clear();
    std::vector<std::string> uuids;
    for (const auto& [uuid, a] : active_) uuids.push_back(uuid);
    for (const std::string& uuid : uuids) followReloadedRule(uuid);
    for (auto it = active_.begin(); it != active_.end();) {
        auto next = std::next(it);
        evaluate(it->first, it->second, true);
        if (!it->second.view.refusal.empty() && find_(it->first) != nullptr) {
            const GuestIdentity* g = find_(it->first);
            const AccessRule* rule = rules_->match(g->name, g->uuid);
            if (rule == nullptr || !rule->allowed_policies.contains(it->second.view.policy.type)) {
                releaseHolds(it->first, it->second.view.policy);
                drop(it, "dropped: the reloaded rule no longer allows it");
            }
        }
        it = next;
    }
}

void HostPolicyEngine::forget(std::string_view uuid) {
    if (auto s = settled_.find(uuid); s != settled_.end()) settled_.erase(s);
    auto it = active_.find(uuid);
    if (it != active_.end()) drop(it, "forgotten: the domain stopped");
    change_log_.forget(uuid);
}

void HostPolicyEngine::forgetMissing() {
    for (auto it = active_.begin(); it != active_.end();) {
        auto next = std::next(it);
        if (find_(it->first) == nullptr) {
            power_.release(it->first);  // no-op if the registry already released it
            drop(it, "forgotten: the domain is gone");
        }
        it = next;
    }
    const auto gone = [&](std::string_view uuid) { return find_(uuid) == nullptr; };
    std::erase_if(settled_, gone);
    change_log_.forgetIf(gone);
}

void HostPolicyEngine::refresh(std::string_view uuid) {
    auto it = active_.find(uuid);
    if (it == active_.end()) return;
    const GuestIdentity* guest = find_(uuid);
    if (guest == nullptr || guest->vcpus == nullptr) return;
    // A re-pinned vCPU: its policy hold leaves the CPUs it no longer runs on.
    for (unsigned v : it->second.view.policy.vcpus) releaseHold(uuid, v, guest->vcpus->pcpus(v));
    evaluate(it->first, it->second, true);
}

// The policy holders' domains only; their answer comes later
// (trafficAnswered).
HostPolicyView HostPolicyEngine::viewOf(const Active& a) const {
    HostPolicyView v = a.view;
    if (a.running->needs().traffic) v.traffic = traffic_.view();
    return v;
}

std::map<std::string, HostPolicyView, std::less<>> HostPolicyEngine::views() const {
    std::map<std::string, HostPolicyView, std::less<>> out;
    for (const auto& [uuid, a] : active_) out.emplace(uuid, viewOf(a));
    return out;
}

std::optional<HostPolicyView> HostPolicyEngine::view(std::string_view uuid) const {
    auto it = active_.find(uuid);
    if (it == active_.end()) return std::nullopt;
    return viewOf(it->second);
}

}  // namespace vmpower
