#include "host_policy_engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

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

}  // namespace

const char* originName(PolicyOrigin origin) {
    return nameIn(kPolicyOriginNames, origin).data();
}

HostPolicyEngine::HostPolicyEngine(PowerControl& power, const PcpuSharing& sharing,
                                   std::shared_ptr<const Policy> policy, FindGuest find,
                                   ArmTimer arm, HostPolicyEdges edges, HostPolicySettings settings)
    : power_(power),
      sharing_(sharing),
      policy_(std::move(policy)),
      find_(std::move(find)),
      arm_(std::move(arm)),
      edges_(edges),
      settings_(settings) {
    if (!policy_) policy_ = std::make_shared<const Policy>(std::vector<VmPolicy>{});
}

HostPolicyEngine::~HostPolicyEngine() {
    if (edges_.branches != nullptr) {
        for (const auto& [uuid, a] : active_) {
            if (a.view.policy.type == HostPolicyType::BranchRatio) edges_.branches->close(uuid);
        }
    }
}

bool HostPolicyEngine::measuresTraffic(const Active& a) const {
    const HostPolicy& p = a.view.policy;
    return p.type == HostPolicyType::Traffic ||
           (p.type == HostPolicyType::Time && p.traffic_hours.any());
}

std::string HostPolicyEngine::setHostPolicy(const GuestIdentity& guest, HostPolicy policy,
                                            PolicyOrigin origin) {
    const VmPolicy* rule = policy_->match(guest.name, guest.uuid);
    if (rule == nullptr) return "no policy rule matches this VM";
    if (!rule->allowed_policies.contains(policy.type)) {
        return "policy " + typeName(policy.type) + " not allowed by the rule '" + rule->name +
               "' (policies: " +
               [&] {
                   std::string names;
                   for (HostPolicyType t : rule->allowed_policies)
                       names += (names.empty() ? "" : ", ") + typeName(t);
                   return names.empty() ? std::string("none") : names;
               }() +
               ")";
    }
    const std::size_t vcpu_count = guest.vcpus ? guest.vcpus->vcpuCount() : 0;
    if (policy.vcpus.empty()) return "the policy names no vCPU";
    for (unsigned v : policy.vcpus) {
        if (v >= vcpu_count) {
            return "vCPU " + std::to_string(v) + " out of range (the VM has " +
                   std::to_string(vcpu_count) + ")";
        }
    }

    Active next;
    next.name = guest.name;
    next.view.policy = std::move(policy);
    next.view.origin = origin;
    const HostPolicy& p = next.view.policy;
    if (measuresTraffic(next) && edges_.traffic == nullptr)
        return "TRAFFIC needs interface statistics and this agent has no source for them";
    if (p.type == HostPolicyType::Time && edges_.wall == nullptr)
        return "TIME needs the host's clock";
    if (p.type == HostPolicyType::BranchRatio) {
        if (edges_.branches == nullptr) return "BRANCH_RATIO needs branch counters (none here)";
        std::string why = edges_.branches->open(guest.uuid, guest.name, p.vcpus);
        if (!why.empty()) return "BRANCH_RATIO: " + why;
        next.hysteresis.emplace(settings_.branch_ratio_threshold,
                                settings_.branch_hysteresis_samples);
    }

    std::string words;
    const std::optional<PolicyLevel> level = decide(next, words);
    auto old = active_.find(guest.uuid);
    std::string why = hold(guest, *rule, p, level);
    if (!why.empty()) {
        // Nothing of the new policy stays held; the old one holds again.
        if (old != active_.end()) {
            (void)hold(guest, *rule, old->second.view.policy, old->second.view.level);
        }
        if (p.type == HostPolicyType::BranchRatio &&
            (old == active_.end() || old->second.view.policy.type != HostPolicyType::BranchRatio))
            edges_.branches->close(guest.uuid);
        return why;
    }
    if (old != active_.end()) {
        for (unsigned v : old->second.view.policy.vcpus) {
            if (!contains(p.vcpus, v)) power_.releaseHolder(Requester::hostPolicy(guest.uuid, v));
        }
        if (old->second.view.policy.type == HostPolicyType::BranchRatio &&
            p.type != HostPolicyType::BranchRatio)
            edges_.branches->close(guest.uuid);
    }
    next.view.level = level;
    next.view.decision = words;
    spdlog::info("vm {}: {} policy {} on vCPUs {} set by the {}: {}", guest.name,
                 old != active_.end() ? "replaced by" : "new", typeName(p.type),
                 fmt::join(p.vcpus, ","), originName(origin), words);
    active_.insert_or_assign(guest.uuid, std::move(next));
    rearm();
    notify(guest.uuid);
    return {};
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
    const VmPolicy* rule = policy_->match(guest.name, guest.uuid);
    if (rule == nullptr || !rule->host_policy || active_.contains(guest.uuid)) return;
    const std::string why = setHostPolicy(guest, *rule->host_policy, PolicyOrigin::Rule);
    if (!why.empty()) {
        spdlog::warn("vm {}: the host_policy of rule '{}' ({}) not applied: {}", guest.name,
                     rule->name, typeName(rule->host_policy->type), why);
    }
}

void HostPolicyEngine::settle(std::string_view uuid) {
    if (active_.contains(uuid) || settled_.contains(uuid)) return;
    if (const GuestIdentity* guest = find_(uuid)) applyRuleDefault(*guest);
}

void HostPolicyEngine::drop(std::map<std::string, Active, std::less<>>::iterator it,
                            const char* why) {
    spdlog::info("vm {}: {} policy {}", it->second.name, typeName(it->second.view.policy.type),
                 why);
    if (it->second.view.policy.type == HostPolicyType::BranchRatio && edges_.branches != nullptr)
        edges_.branches->close(it->first);
    const std::string uuid = it->first;
    active_.erase(it);
    rearm();
    notify(uuid);
}

void HostPolicyEngine::releaseHolds(std::string_view uuid, const HostPolicy& policy) {
    for (unsigned v : policy.vcpus) power_.releaseHolder(Requester::hostPolicy(uuid, v));
}

std::string HostPolicyEngine::hold(const GuestIdentity& guest, const VmPolicy& rule,
                                   const HostPolicy& policy, std::optional<PolicyLevel> level) {
    if (!level) {
        releaseHolds(guest.uuid, policy);
        return {};
    }
    const PowerAction action = actionFor(*level);
    // Every vCPU placed before anything is applied.
    std::vector<PowerTarget> targets;
    for (unsigned v : policy.vcpus) {
        PowerDecision d = placePower(rule, guest, CoreType::Virtual, v, action, sharing_);
        if (!d.target) return d.refusal;
        d.target->who = Requester::hostPolicy(guest.uuid, v);
        targets.push_back(std::move(*d.target));
    }
    for (std::size_t i = 0; i < targets.size(); ++i) {
        const PowerTarget& t = targets[i];
        PowerVerdict verdict = power_.apply(t.who, t.pcpus, t.action, rule.limits);
        if (!verdict.applied) {
            for (std::size_t j = 0; j < i; ++j) power_.releaseHolder(targets[j].who);
            return "vCPU " + std::to_string(t.who.number()) +
                   ": cpufreq refused: " + verdict.refusal;
        }
    }
    return {};
}

std::optional<PolicyLevel> HostPolicyEngine::decide(Active& a, std::string& words) const {
    const HostPolicy& p = a.view.policy;
    auto traffic = [&](std::string prefix) -> std::optional<PolicyLevel> {
        if (!a.pps) {
            words = prefix + "no traffic measured yet: holds nothing";
            return std::nullopt;
        }
        const PolicyLevel l = trafficLevel(*a.pps, p.traffic);
        words = prefix + fmt::format("{:.0f} packets/s: {}", *a.pps, nameIn(kPolicyLevelNames, l));
        return l;
    };
    switch (p.type) {
        case HostPolicyType::Workload: {
            const PolicyLevel l = workloadLevel(p.workload);
            words = fmt::format("workload {}: {}", nameIn(kWorkloadNames, p.workload),
                                nameIn(kPolicyLevelNames, l));
            return l;
        }
        case HostPolicyType::Time: {
            const int hour = localHour(edges_.wall->now());
            const std::string at = fmt::format("hour {} ", hour);
            switch (hourUse(p, hour)) {
                case HourUse::Busy:
                    words = at + "is busy: max";
                    return PolicyLevel::Max;
                case HourUse::Quiet:
                    words = at + "is quiet: min";
                    return PolicyLevel::Min;
                case HourUse::Traffic:
                    return traffic(at + "uses traffic, ");
                case HourUse::Unlisted:
                    words = at + "is in no list: holds nothing";
                    return std::nullopt;
            }
            return std::nullopt;
        }
        case HostPolicyType::Traffic:
            return traffic("");
        case HostPolicyType::BranchRatio:
            if (!a.ratio || !a.hysteresis) {
                words = "no branch ratio measured yet: holds nothing";
                return std::nullopt;
            }
            words = fmt::format("branch misses/branches {:.4f} (threshold {}): {}", *a.ratio,
                                settings_.branch_ratio_threshold,
                                nameIn(kPolicyLevelNames, a.hysteresis->level()));
            return a.hysteresis->level();
    }
    return std::nullopt;
}

void HostPolicyEngine::evaluate(const std::string& uuid, Active& a, bool force) {
    const GuestIdentity* guest = find_(uuid);
    const VmPolicy* rule = guest ? policy_->match(guest->name, guest->uuid) : nullptr;
    if (guest == nullptr || rule == nullptr ||
        !rule->allowed_policies.contains(a.view.policy.type)) {
        // Callers drop it: the domain is gone or its rule forbids it now.
        a.view.refusal = guest == nullptr ? "domain not running" : "not allowed by the rule now";
        return;
    }
    std::string words;
    const std::optional<PolicyLevel> level = decide(a, words);
    a.view.decision = words;
    if (!force && level == a.view.level) return;
    std::string why = hold(*guest, *rule, a.view.policy, level);
    if (why.empty()) {
        if (level != a.view.level)
            spdlog::info("vm {}: {} policy: {}", a.name, typeName(a.view.policy.type), words);
        a.view.level = level;
        a.view.refusal.clear();
        return;
    }
    if (why != a.view.refusal)
        spdlog::warn("vm {}: {} policy: {}, refused: {}", a.name, typeName(a.view.policy.type),
                     words, why);
    a.view.refusal = why;
    (void)hold(*guest, *rule, a.view.policy, a.view.level);  // what held before holds again
}

void HostPolicyEngine::setPolicy(std::shared_ptr<const Policy> policy) {
    if (!policy) return;
    policy_ = std::move(policy);
    settled_.clear();
    // A rule's policy follows the reloaded rule.
    std::vector<std::string> uuids;
    for (const auto& [uuid, a] : active_) uuids.push_back(uuid);
    for (const std::string& uuid : uuids) {
        auto it = active_.find(uuid);
        const GuestIdentity* g = find_(uuid);
        if (it->second.view.origin != PolicyOrigin::Rule || g == nullptr) continue;
        const VmPolicy* rule = policy_->match(g->name, g->uuid);
        if (rule != nullptr && rule->host_policy == it->second.view.policy) continue;
        std::string why = "the reloaded rule has no host_policy";
        if (rule != nullptr && rule->host_policy) {
            why = setHostPolicy(*g, *rule->host_policy, PolicyOrigin::Rule);
            if (why.empty()) continue;
        }
        it = active_.find(uuid);
        releaseHolds(uuid, it->second.view.policy);
        spdlog::info("vm {}: the rule's policy goes: {}", g->name, why);
        drop(it, "dropped");
    }
    for (auto it = active_.begin(); it != active_.end();) {
        auto next = std::next(it);
        evaluate(it->first, it->second, true);
        if (!it->second.view.refusal.empty() && find_(it->first) != nullptr) {
            const GuestIdentity* g = find_(it->first);
            const VmPolicy* rule = policy_->match(g->name, g->uuid);
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
    std::erase_if(settled_, [&](const std::string& uuid) { return find_(uuid) == nullptr; });
}

void HostPolicyEngine::refresh(std::string_view uuid) {
    auto it = active_.find(uuid);
    if (it == active_.end()) return;
    const GuestIdentity* guest = find_(uuid);
    if (guest == nullptr || guest->vcpus == nullptr) return;
    // A re-pinned vCPU: its policy hold leaves the CPUs it no longer runs on.
    for (unsigned v : it->second.view.policy.vcpus) {
        power_.releaseOutside(Requester::hostPolicy(uuid, v), guest->vcpus->pcpus(v));
    }
    evaluate(it->first, it->second, true);
}

void HostPolicyEngine::sampleTraffic() {
    std::vector<std::string> uuids;
    for (const auto& [uuid, a] : active_) {
        if (measuresTraffic(a)) uuids.push_back(uuid);
    }
    if (uuids.empty()) return;
    TrafficSample sample;
    try {
        sample = edges_.traffic->sample(uuids);
    } catch (const std::exception& e) {
        spdlog::warn("host policies: interface statistics unavailable: {}", e.what());
        return;
    }
    const auto now = edges_.clock->now();
    for (const std::string& uuid : uuids) {
        Active& a = active_.find(uuid)->second;
        auto got = sample.find(uuid);
        std::uint64_t total = 0;
        bool any = false;
        if (got != sample.end()) {
            for (const InterfaceCounters& c : got->second) {
                const auto& macs = a.view.policy.macs;
                if (!macs.empty() &&
                    (!c.mac || std::find(macs.begin(), macs.end(), *c.mac) == macs.end()))
                    continue;
                total += c.rx_packets;
                any = true;
            }
        }
        if (!any) {
            a.pps.reset();
            a.rx_total.reset();
            continue;
        }
        const double secs = std::chrono::duration<double>(now - a.rx_at).count();
        if (a.rx_total && total >= *a.rx_total && secs > 0) {
            a.pps = static_cast<double>(total - *a.rx_total) / secs;
        }
        a.rx_total = total;
        a.rx_at = now;
    }
}

void HostPolicyEngine::sampleBranches() {
    for (auto& [uuid, a] : active_) {
        if (a.view.policy.type != HostPolicyType::BranchRatio || !a.hysteresis) continue;
        const std::optional<BranchCounts> c = edges_.branches->read(uuid);
        if (c && a.counts && c->branches > a.counts->branches && c->misses >= a.counts->misses) {
            a.ratio = static_cast<double>(c->misses - a.counts->misses) /
                      static_cast<double>(c->branches - a.counts->branches);
            a.hysteresis->feed(*a.ratio);
        }
        a.counts = c;
    }
}

void HostPolicyEngine::onTimer() {
    try {
        const auto now = edges_.clock->now();
        bool traffic_due = false, branch_due = false;
        if (now >= next_traffic_) {
            sampleTraffic();
            next_traffic_ = now + settings_.traffic_interval;
            traffic_due = true;
        }
        if (now >= next_branch_) {
            sampleBranches();
            next_branch_ = now + settings_.branch_interval;
            branch_due = true;
        }
        const int hour = edges_.wall ? localHour(edges_.wall->now()) : -1;
        const bool new_hour = hour != hour_;
        hour_ = hour;
        for (auto it = active_.begin(); it != active_.end();) {
            auto next = std::next(it);
            Active& a = it->second;
            const HostPolicyType t = a.view.policy.type;
            const bool due = (t == HostPolicyType::Time && (new_hour || traffic_due)) ||
                             (t == HostPolicyType::Traffic && traffic_due) ||
                             (t == HostPolicyType::BranchRatio && branch_due);
            if (due) {
                evaluate(it->first, a, false);
                if (find_(it->first) == nullptr) drop(it, "forgotten: the domain is gone");
            }
            it = next;
        }
    } catch (const std::exception& e) {
        spdlog::error("host policies: {}", e.what());
    } catch (...) {
        spdlog::error("host policies: unknown error");
    }
    rearm();
}

void HostPolicyEngine::rearm() {
    using std::chrono::milliseconds;
    std::optional<milliseconds> wait;
    auto sooner = [&](milliseconds d) {
        if (d < milliseconds(0)) d = milliseconds(0);
        if (!wait || d < *wait) wait = d;
    };
    const auto now = edges_.clock ? edges_.clock->now() : Clock::TimePoint{};
    for (const auto& [uuid, a] : active_) {
        const HostPolicyType t = a.view.policy.type;
        if (t == HostPolicyType::Time && edges_.wall != nullptr) {
            hour_ = hour_ < 0 ? localHour(edges_.wall->now()) : hour_;
            // A little past the change, so the new hour is what it reads.
            sooner(untilNextHour(edges_.wall->now()) + milliseconds(5));
        }
        if (measuresTraffic(a))
            sooner(std::chrono::duration_cast<milliseconds>(next_traffic_ - now));
        if (t == HostPolicyType::BranchRatio)
            sooner(std::chrono::duration_cast<milliseconds>(next_branch_ - now));
    }
    arm_(wait);
}

std::map<std::string, HostPolicyView, std::less<>> HostPolicyEngine::views() const {
    std::map<std::string, HostPolicyView, std::less<>> out;
    for (const auto& [uuid, a] : active_) out.emplace(uuid, a.view);
    return out;
}

std::optional<HostPolicyView> HostPolicyEngine::view(std::string_view uuid) const {
    auto it = active_.find(uuid);
    if (it == active_.end()) return std::nullopt;
    return it->second.view;
}

}  // namespace vmpower
