#include "power_intent_keeper.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <ctime>
#include <vector>

#include "access_rules.h"
#include "intent_restore.h"
#include "log.h"

namespace vmpower {

namespace {

std::string wishText(const VcpuIntent& v) {
    std::string out = v.level ? describe(*v.level) : std::string("no level");
    if (v.turbo) out += *v.turbo ? ", turbo on" : ", turbo off";
    return out;
}

}  // namespace

PowerIntentKeeper::PowerIntentKeeper(DomainSource& source, PowerControl& power,
                                     RetryScheduler& retries, std::chrono::milliseconds interval)
    : power_(power),
      writer_(
          source, retries, [this](std::string_view uuid) { return render(uuid); }, interval) {}

const DomainIntentRecord* PowerIntentKeeper::find(std::string_view uuid) const {
    auto it = domains_.find(uuid);
    return it == domains_.end() ? nullptr : &it->second;
}

void PowerIntentKeeper::applied(const GuestIdentity& guest, const Requester& who,
                                const CpuSet& pcpus, const FrequencyLimits& limits) {
    // The operator's holds and PHYSICAL requests (host CPU numbers) are no
    // VM's intent: they mean nothing on another host.
    if (who.isOperator() || who.kind() == Requester::Kind::Physical) return;
    if (pcpus.empty()) return;
    const unsigned pcpu = *pcpus.first();
    const HeldRequest held = power_.heldBy(who, pcpu);
    auto [dom, added] = domains_.try_emplace(guest.uuid);
    auto rec = dom->second.vcpus.find(who.number());
    // The common case under a storm of requests: the same hold again.
    if (rec != dom->second.vcpus.end() && rec->second.held == held) return;
    if (!held.khz && !held.turbo) {
        if (rec == dom->second.vcpus.end()) return;
        dom->second.vcpus.erase(rec);
    } else {
        VcpuIntent intent{who.number(), std::nullopt, held.khz, held.turbo};
        if (held.khz) {
            allowed_.clear();
            for (std::uint32_t f : power_.availableFrequencies(pcpu)) {
                if (f >= limits.floor_khz && f <= limits.ceiling_khz) allowed_.push_back(f);
            }
            intent.level = positionOf(*held.khz, allowed_);
        }
        dom->second.vcpus[who.number()] = VcpuIntentRecord{
            intent, VcpuIntentRecord::Origin::Guest, std::chrono::system_clock::now(), true, {},
            held};
    }
    writer_.changed(guest.uuid);
}

void PowerIntentKeeper::onApplied(const GuestIdentity& guest, const Requester& who,
                                  const CpuSet& pcpus, const FrequencyLimits& limits) noexcept {
    try {
        applied(guest, who, pcpus, limits);
    } catch (const std::exception& e) {
        LOG(Domains).error("{}: keeping its power intent: {}", guest.name, e.what());
    }
}

void PowerIntentKeeper::vcpuRepinned(std::string_view uuid, unsigned vcpu, const CpuSet& pcpus) {
    auto dom = domains_.find(uuid);
    if (dom == domains_.end() || pcpus.empty()) return;
    auto rec = dom->second.vcpus.find(vcpu);
    if (rec == dom->second.vcpus.end()) return;
    HeldRequest held = power_.heldBy(Requester::vcpu(uuid, vcpu), pcpus.cpus().front());
    if (held.khz || held.turbo) return;
    dom->second.vcpus.erase(rec);  // its holds went with the CPUs it left
    writer_.changed(uuid);
}

void PowerIntentKeeper::hostPolicyChanged(std::string_view uuid, const HostPolicyView* now) {
    std::optional<IntentHostPolicy> policy;
    if (now != nullptr && now->origin != PolicyOrigin::Rule) {
        // As the intent reads it back (vCPUs ascending, unused fields dropped).
        policy = IntentHostPolicy{hostPolicyFromFields(hostPolicyFields(now->policy)),
                                  now->origin == PolicyOrigin::Guest};
    }
    auto dom = domains_.find(uuid);
    if (dom == domains_.end()) {
        if (!policy) return;
        dom = domains_.try_emplace(std::string(uuid)).first;
    }
    if (dom->second.host_policy == policy) return;
    dom->second.host_policy = std::move(policy);
    dom->second.host_policy_refusal.clear();
    writer_.changed(uuid);
}

void PowerIntentKeeper::domainGone(std::string_view uuid) {
    if (auto it = domains_.find(uuid); it != domains_.end()) domains_.erase(it);
    writer_.forget(uuid);
}

void PowerIntentKeeper::domainAppeared(const Domain& d, const DomainSnapshot& snap,
                                       DomainArrival how, const AccessRules& policy,
                                       const PcpuSharing& sharing) {
    if (how == DomainArrival::FoundRunning) return;
    const bool migrated = how == DomainArrival::MigratedIn;
    const std::string& uuid = d.identity.uuid;
    DomainIntentRecord& record = domains_[uuid];
    record = DomainIntentRecord{};
    PowerIntentReading reading = readPowerIntent(snap.xml);
    if (!migrated) {
        if (!reading.intent && reading.problems.empty()) {
            writer_.assume(uuid, std::string());
            return;
        }
        // Only a live migration carries intent; this one is from an earlier
        // run (a persistent definition that kept it). Never applied.
        LOG(Domains).info(
            "{}: started normally: ignoring the power intent in its XML (from an earlier "
            "run) and removing it",
            d.identity.name);
        writer_.assume(uuid, std::nullopt);
        writer_.changed(uuid);
        return;
    }
    for (const auto& p : reading.problems) LOG(Domains).warn("{}: {}", d.identity.name, p);
    if (!reading.intent || reading.intent->empty()) {
        LOG(Domains).info("{}: arrived by live migration with no power intent", d.identity.name);
        writer_.assume(uuid,
                       reading.intent ? std::optional<std::string>(std::string()) : std::nullopt);
        return;
    }
    restore(d, *reading.intent, policy, sharing, record);
    // libvirt holds what was read: nothing to write until something changes.
    writer_.assume(uuid, render(uuid));
}

void PowerIntentKeeper::restore(const Domain& d, const PowerIntent& intent,
                                const AccessRules& policy, const PcpuSharing& sharing,
                                DomainIntentRecord& record) {
    const std::string& name = d.identity.name;
    const auto now = std::chrono::system_clock::now();
    if (intent.host_policy) {
        // Under this host's rule (policies:, vCPUs, stakeholders) like any
        // set-policy; the engine's change comes back through
        // hostPolicyChanged with the same policy: nothing to write.
        record.host_policy = intent.host_policy;
        const HostPolicy& p = intent.host_policy->policy;
        const std::string type(nameIn(kHostPolicyTypeNames, p.type));
        const Verdict set = sink_ == nullptr ? Verdict::refused("this agent runs no host policies")
                                             : sink_->setHostPolicy(d.identity, p,
                                                                    intent.host_policy->set_by_guest
                                                                        ? PolicyOrigin::Guest
                                                                        : PolicyOrigin::Operator);
        if (set) {
            LOG(Domains).info("{}: host policy {} restored from migration", name, type);
        } else {
            LOG(Domains).warn("{}: host policy {} from migration not applied: {}", name, type,
                              set.reason());
            record.host_policy.reset();
            record.host_policy_refusal = set.reason();
        }
    }
    for (const VcpuIntent& v : intent.vcpus) {
        if (v.vcpu >= d.vcpus.vcpuCount()) {
            LOG(Domains).warn(
                "{}: power intent from migration names vCPU {} but the domain has {} "
                "here; ignored",
                name, v.vcpu, d.vcpus.vcpuCount());
            continue;
        }
        RestoreVerdict verdict =
            restoreVcpuWish(policy, d.identity, v.vcpu, {v.level, v.turbo}, power_, sharing);
        VcpuIntentRecord rec{
            v, VcpuIntentRecord::Origin::Migration, now, verdict.applied, verdict.refusal, {}};
        const CpuSet& pcpus = d.vcpus.pcpus(v.vcpu);
        if (!pcpus.empty())
            rec.held =
                power_.heldBy(Requester::vcpu(d.identity.uuid, v.vcpu), pcpus.cpus().front());
        if (verdict.applied) {
            LOG(Domains).info(
                "{}: vCPU {}: power intent restored from migration: {}{} on pCPUs {}", name, v.vcpu,
                wishText(v),
                verdict.khz ? fmt::format(", {} kHz here", *verdict.khz) : std::string(),
                pcpus.toString());
        } else {
            LOG(Domains).warn("{}: vCPU {}: power intent from migration ({}) not applied: {}", name,
                              v.vcpu, wishText(v), verdict.refusal);
        }
        record.vcpus[v.vcpu] = std::move(rec);
    }
}

std::string PowerIntentKeeper::render(std::string_view uuid) const {
    auto it = domains_.find(uuid);
    if (it == domains_.end()) return {};
    PowerIntent intent;
    intent.host_policy = it->second.host_policy;
    for (const auto& [vcpu, rec] : it->second.vcpus) intent.vcpus.push_back(rec.intent);
    return powerIntentElement(intent);
}

}  // namespace vmpower
