#include "power_intent_keeper.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

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

PowerIntent intentOf(const DomainIntentRecord& record) {
    PowerIntent intent;
    intent.host_policy = record.host_policy;
    for (const auto& [vcpu, rec] : record.vcpus) intent.vcpus.push_back(rec.intent);
    return intent;
}

}  // namespace

PowerIntentKeeper::PowerIntentKeeper(DomainSource& source, PowerControl& power,
                                     RetryScheduler& retries, std::chrono::milliseconds interval)
    : power_(power),
      writer_(
          source, retries, [this](std::string_view uuid) { return render(uuid); }, interval) {}

PowerIntentKeeper::~PowerIntentKeeper() = default;

void PowerIntentKeeper::keepInStateDir(const std::filesystem::path& state_dir, std::string boot_id,
                                       RunOf run_of, std::chrono::milliseconds interval) {
    run_of_ = std::move(run_of);
    file_ = std::make_unique<IntentStateFile>(
        state_dir, std::move(boot_id), writer_.retries(), [this] { return stored(); }, interval);
    last_run_ = file_->load();
    from_metadata_ = file_->storeLost();
}

const DomainIntentRecord* PowerIntentKeeper::find(std::string_view uuid) const {
    auto it = domains_.find(uuid);
    return it == domains_.end() ? nullptr : &it->second.record;
}

void PowerIntentKeeper::changed(std::string_view uuid) {
    auto it = domains_.find(uuid);
    changed(it == domains_.end() ? nullptr : &it->second, uuid);
}

void PowerIntentKeeper::changed(Kept* kept, std::string_view uuid) {
    if (kept != nullptr) kept->since = std::chrono::system_clock::now();
    writer_.changed(uuid);
    if (file_) file_->changed(uuid);
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
    if (added) dom->second.name = guest.name;
    auto& vcpus = dom->second.record.vcpus;
    auto rec = vcpus.find(who.number());
    // The common case under a storm of requests: the same hold again.
    if (rec != vcpus.end() && rec->second.held == held) return;
    if (!held.khz && !held.turbo) {
        if (rec == vcpus.end()) return;
        vcpus.erase(rec);
    } else {
        VcpuIntent intent{who.number(), std::nullopt, held.khz, held.turbo};
        if (held.khz) {
            allowed_.clear();
            for (std::uint32_t f : power_.availableFrequencies(pcpu)) {
                if (f >= limits.floor_khz && f <= limits.ceiling_khz) allowed_.push_back(f);
            }
            intent.level = positionOf(*held.khz, allowed_);
        }
        vcpus[who.number()] = VcpuIntentRecord{
            intent, VcpuIntentRecord::Origin::Guest, std::chrono::system_clock::now(), true, {},
            held};
    }
    changed(&dom->second, guest.uuid);
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
    auto& vcpus = dom->second.record.vcpus;
    auto rec = vcpus.find(vcpu);
    if (rec == vcpus.end()) return;
    HeldRequest held = power_.heldBy(Requester::vcpu(uuid, vcpu), pcpus.cpus().front());
    if (held.khz || held.turbo) return;
    vcpus.erase(rec);  // its holds went with the CPUs it left
    changed(uuid);
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
    DomainIntentRecord& record = dom->second.record;
    if (record.host_policy == policy) return;
    record.host_policy = std::move(policy);
    record.host_policy_refusal.clear();
    changed(uuid);
}

void PowerIntentKeeper::domainGone(std::string_view uuid) {
    if (auto it = domains_.find(uuid); it != domains_.end()) domains_.erase(it);
    writer_.forget(uuid);
    if (file_) file_->forget(uuid);
}

void PowerIntentKeeper::domainAppeared(const Domain& d, const DomainSnapshot& snap,
                                       DomainArrival how, const AccessRules& policy,
                                       const PcpuSharing& sharing) {
    Kept& kept = domains_[d.identity.uuid];
    kept = Kept{};
    kept.name = d.identity.name;
    kept.run = run_of_ ? run_of_(d) : DomainRun{d.id, 0};
    kept.since = std::chrono::system_clock::now();
    switch (how) {
        case DomainArrival::FoundRunning:
            foundRunning(d, snap, policy, sharing, kept);
            break;
        case DomainArrival::Started:
            startedNormally(d, snap);
            break;
        case DomainArrival::MigratedIn:
            migratedIn(d, snap, policy, sharing, kept.record);
            break;
    }
    if (file_) file_->changed(d.identity.uuid);
}

void PowerIntentKeeper::startedNormally(const Domain& d, const DomainSnapshot& snap) {
    const std::string& uuid = d.identity.uuid;
    PowerIntentReading reading = readPowerIntent(snap.xml);
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
}

void PowerIntentKeeper::migratedIn(const Domain& d, const DomainSnapshot& snap,
                                   const AccessRules& policy, const PcpuSharing& sharing,
                                   DomainIntentRecord& record) {
    const std::string& uuid = d.identity.uuid;
    PowerIntentReading reading = readPowerIntent(snap.xml);
    for (const auto& p : reading.problems) LOG(Domains).warn("{}: {}", d.identity.name, p);
    if (!reading.intent || reading.intent->empty()) {
        LOG(Domains).info("{}: arrived by live migration with no power intent", d.identity.name);
        writer_.assume(uuid,
                       reading.intent ? std::optional<std::string>(std::string()) : std::nullopt);
        return;
    }
    restore(d, *reading.intent, policy, sharing, record,
            {VcpuIntentRecord::Origin::Migration, "from migration"});
    // libvirt holds what was read: nothing to write until something changes.
    writer_.assume(uuid, render(uuid));
}

void PowerIntentKeeper::foundRunning(const Domain& d, const DomainSnapshot& snap,
                                     const AccessRules& policy, const PcpuSharing& sharing,
                                     Kept& kept) {
    const std::string& uuid = d.identity.uuid;
    const Source restart{VcpuIntentRecord::Origin::AgentRestart, "after an agent restart"};
    if (auto last = last_run_.find(uuid); last != last_run_.end()) {
        const StoredIntent stored = std::move(last->second);
        last_run_.erase(last);
        PowerIntentReading reading = readPowerIntent(snap.xml);
        if (!kept.run.continues(stored.run)) {
            LOG(Domains).info(
                "{}: restarted while vmpowerd was not running (domain id {} then, {} now): "
                "its kept power intent is dropped",
                d.identity.name, stored.run.id, kept.run.id);
            if (reading.intent) {  // an earlier run's: removed
                writer_.assume(uuid, std::nullopt);
                writer_.changed(uuid);
            }
            return;
        }
        restore(d, stored.intent, policy, sharing, kept.record, restart);
        followMetadata(uuid, reading);
        return;
    }
    // Found at a reconnect, or the store says it held nothing (a fresh one
    // too): what libvirt holds stays as it is.
    if (settled_ || !from_metadata_) return;
    // The store was lost (set aside) or is new after an upgrade: the live
    // metadata says what the guest held.
    PowerIntentReading reading = readPowerIntent(snap.xml);
    for (const auto& p : reading.problems) LOG(Domains).warn("{}: {}", d.identity.name, p);
    if (!reading.intent || reading.intent->empty()) return;
    LOG(Domains).info("{}: no kept power intent in the state file: its live metadata's is used",
                      d.identity.name);
    restore(d, *reading.intent, policy, sharing, kept.record, restart);
    followMetadata(uuid, reading);
}

void PowerIntentKeeper::followMetadata(std::string_view uuid, const PowerIntentReading& reading) {
    const std::string now = render(uuid);
    if (reading.intent && powerIntentElement(*reading.intent) == now) {
        writer_.assume(uuid, now);
    } else {
        writer_.assume(uuid, std::nullopt);
        writer_.changed(uuid);
    }
}

void PowerIntentKeeper::restoreHostPolicy(const Domain& d, const IntentHostPolicy& p,
                                          DomainIntentRecord& record, Source source) {
    // Under this host's rule (policies:, vCPUs, stakeholders) like any
    // set-policy; the engine's change comes back through hostPolicyChanged
    // with the same policy: nothing to write.
    const std::string& name = d.identity.name;
    record.host_policy = p;
    const std::string type(nameIn(kHostPolicyTypeNames, p.policy.type));
    const Verdict set =
        sink_ == nullptr
            ? Verdict::refused("this agent runs no host policies")
            : sink_->setHostPolicy(d.identity, p.policy,
                                   p.set_by_guest ? PolicyOrigin::Guest : PolicyOrigin::Operator);
    if (set) {
        LOG(Domains).info("{}: host policy {} restored {}", name, type, source.from);
    } else {
        LOG(Domains).warn("{}: host policy {} {} not applied: {}", name, type, source.from,
                          set.reason());
        record.host_policy.reset();
        record.host_policy_refusal = set.reason();
    }
}

void PowerIntentKeeper::restore(const Domain& d, const PowerIntent& intent,
                                const AccessRules& policy, const PcpuSharing& sharing,
                                DomainIntentRecord& record, Source source) {
    const std::string& name = d.identity.name;
    const auto now = std::chrono::system_clock::now();
    if (intent.host_policy) restoreHostPolicy(d, *intent.host_policy, record, source);
    for (const VcpuIntent& v : intent.vcpus) {
        if (v.vcpu >= d.vcpus.vcpuCount()) {
            LOG(Domains).warn(
                "{}: power intent {} names vCPU {} but the domain has {} here; ignored", name,
                source.from, v.vcpu, d.vcpus.vcpuCount());
            continue;
        }
        RestoreVerdict verdict =
            restoreVcpuWish(policy, d.identity, v.vcpu, {v.level, v.turbo}, power_, sharing);
        VcpuIntentRecord rec{v, source.origin, now, verdict.applied, verdict.refusal, {}};
        const CpuSet& pcpus = d.vcpus.pcpus(v.vcpu);
        if (!pcpus.empty())
            rec.held =
                power_.heldBy(Requester::vcpu(d.identity.uuid, v.vcpu), pcpus.cpus().front());
        if (verdict.applied) {
            LOG(Domains).info(
                "{}: vCPU {}: power intent restored {}: {}{} on pCPUs {}", name, v.vcpu,
                source.from, wishText(v),
                verdict.khz ? fmt::format(", {} kHz here", *verdict.khz) : std::string(),
                pcpus.toString());
        } else {
            LOG(Domains).warn("{}: vCPU {}: power intent {} ({}) not applied: {}", name, v.vcpu,
                              source.from, wishText(v), verdict.refusal);
        }
        record.vcpus[v.vcpu] = std::move(rec);
    }
}

void PowerIntentKeeper::settled() {
    if (settled_) return;
    settled_ = true;
    if (last_run_.empty()) return;
    // Their domains are not running any more.
    for (const auto& [uuid, s] : last_run_)
        LOG(Domains).info("{}: its kept power intent is dropped: the domain is gone", s.name);
    last_run_.clear();
    if (file_) file_->changed({});
}

std::size_t PowerIntentKeeper::releaseAll() {
    std::size_t released = 0;
    for (auto& [uuid, kept] : domains_) {
        DomainIntentRecord& record = kept.record;
        if (record.vcpus.empty() && !record.host_policy) continue;
        ++released;
        for (const auto& [vcpu, rec] : record.vcpus)
            power_.releaseHolder(Requester::vcpu(uuid, vcpu));
        record.vcpus.clear();
        // The engine's change comes back through hostPolicyChanged.
        if (record.host_policy && sink_ != nullptr) sink_->removeHostPolicy(uuid);
        record = DomainIntentRecord{};
        changed(uuid);
    }
    last_run_.clear();
    if (file_) file_->changed({});
    LOG(Domains).info("release-all: {} VMs' holds and host policies released and forgotten",
                      released);
    return released;
}

void PowerIntentKeeper::stopping() {
    if (file_) file_->keepAsIs();
}

std::string PowerIntentKeeper::render(std::string_view uuid) const {
    auto it = domains_.find(uuid);
    if (it == domains_.end()) return {};
    return powerIntentElement(intentOf(it->second.record));
}

StoredIntents PowerIntentKeeper::stored() const {
    StoredIntents out = last_run_;  // not found yet since the start
    for (const auto& [uuid, kept] : domains_) {
        PowerIntent intent = intentOf(kept.record);
        if (intent.empty()) continue;
        out.insert_or_assign(uuid,
                             StoredIntent{kept.name, kept.run, std::move(intent),
                                          std::chrono::floor<std::chrono::seconds>(kept.since)});
    }
    return out;
}

}  // namespace vmpower
