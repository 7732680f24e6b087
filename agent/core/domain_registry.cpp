#include "domain_registry.h"

#include <spdlog/spdlog.h>

#include <set>
#include <utility>
#include <variant>

#include "domain_xml.h"
#include "log.h"

namespace vmpower {

DomainRegistry::DomainRegistry(ChannelEnv& env, DomainSource& source, PowerControl& power,
                               DomainObserver* observer)
    : env_(env), source_(source), power_(power), observer_(observer) {}

DomainRegistry::~DomainRegistry() {
    listing_.reset();
    removeAll();
    refreshing_.clear();  // their Calls cancel the retries
    lookups_.clear();     // and their AsyncCalls the answers
}

const Domain* DomainRegistry::find(std::string_view uuid) const {
    auto it = domains_.find(uuid);
    return it == domains_.end() ? nullptr : it->second.get();
}

void DomainRegistry::reconcile() {
    touched_while_listing_.clear();
    listing_ = source_.listActive(
        [this](Checked<ActiveDomains> answer) { applyActive(std::move(answer)); });
}

void DomainRegistry::applyActive(Checked<ActiveDomains> answer) {
    std::set<std::string, std::less<>> touched;
    touched.swap(touched_while_listing_);
    if (!answer) {
        LOG(Domains).error("cannot list domains: {}", answer.reason());
        if (hooks_.reconciled) hooks_.reconciled(false);
        return;
    }
    std::set<std::string, std::less<>> seen;
    for (const auto& snap : answer->domains) {
        seen.insert(snap.uuid);  // an unreadable domain is still running
        if (!touched.contains(snap.uuid)) sync(snap);
    }
    std::vector<std::string> gone;
    for (const auto& [uuid, d] : domains_) {
        if (!seen.contains(uuid) && !touched.contains(uuid)) gone.push_back(uuid);
    }
    for (const auto& uuid : gone) remove(uuid, "no longer running");
    LOG(Domains).info("reconciled: {} running domain(s), {} tracked", answer->domains.size(),
                      domains_.size());
    if (hooks_.reconciled) hooks_.reconciled(true);
}

void DomainRegistry::settled(std::string_view uuid) {
    if (hooks_.settled) hooks_.settled(uuid);
}

namespace {

template <class... Fs>
struct Overloaded : Fs... {
    using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

}  // namespace

void DomainRegistry::onEvent(std::string_view uuid, const DomainEvent& event) noexcept {
    try {
        if (listing_.pending()) touched_while_listing_.emplace(uuid);
        // A lookup in flight may predate this event: ask again after it.
        const bool asking = lookups_.contains(uuid) && lookups_.find(uuid)->second.pending();
        std::visit(Overloaded{
                       // Gone already (destroyed, shut off, migrated away, crashed...).
                       [&](const DomainStopped& e) {
                           remove(uuid, e.migrated ? "migrated away" : "stopped");
                           settled(uuid);
                       },
                       // Ask the hypervisor what is true now.
                       [&](const DomainStarted& e) {
                           // Arriving by migration: connected now, while the
                           // guest is paused, so its first write is read.
                           if (e.migrated)
                               LOG(Domains).info("{}: arriving by live migration", uuid);
                           bool& migrated = starting_[std::string(uuid)];
                           migrated = migrated || e.migrated;
                           refresh(uuid);
                       },
                       // A migration's SUSPENDED on the source releases nothing:
                       // it may fail and the domain resume here.
                       [&](const DomainChanged&) { refresh(uuid); },
                       // The event names only the alias: the live XML tells what it is.
                       [&](const DeviceAdded&) { refresh(uuid); },
                       [&](const DeviceRemoved&) { refresh(uuid); },
                       [&](const VcpuRepinned& e) {
                           auto it = domains_.find(uuid);
                           if (it != domains_.end()) repinVcpu(*it->second, e);
                           if (asking) refresh(uuid);
                           settled(uuid);
                       },
                       [&](const EmulatorRepinned& e) {
                           if (asking) refresh(uuid);
                           auto it = domains_.find(uuid);
                           if (it == domains_.end()) return;
                           Domain& d = *it->second;
                           setPinning(d, d.vcpus, e.pcpus, d.iothread_pcpus);
                           settled(uuid);
                       },
                       // Nothing to read: whoever writes to the domain hears it.
                       [&](const JobEnded&) {},
                   },
                   event);
    } catch (const std::exception& e) {
        LOG(Domains).error("event for {}: {}", uuid, e.what());
    }
}

void DomainRegistry::repinVcpu(Domain& d, const VcpuRepinned& e) {
    LOG(Domains).info("{}: vCPU {} now on pCPUs {}", d.identity.name, e.vcpu, e.pcpus.toString());
    VcpuMap updated = d.vcpus;
    updated.setPcpus(e.vcpu, e.pcpus);
    setPinning(d, std::move(updated), d.emulator_pcpus, d.iothread_pcpus);
    // Its requests on CPUs it left no longer speak for it.
    power_.releaseOutside(Requester::vcpu(d.identity.uuid, e.vcpu), e.pcpus);
    if (observer_ != nullptr) observer_->vcpuRepinned(d.identity.uuid, e.vcpu, e.pcpus);
}

bool DomainRegistry::setChannelEnabled(std::string_view uuid, unsigned index, bool enabled) {
    auto d = domains_.find(uuid);
    if (d == domains_.end()) return false;
    auto ch = d->second->channels.find(index);
    if (ch == d->second->channels.end()) return false;
    ch->second->setEnabled(enabled);
    return true;
}

void DomainRegistry::onPolicyChanged() {
    for (auto& [uuid, d] : domains_) {
        RecordFormat f =
            env_.handler.accessRules().recordFormat(d->identity.name, d->identity.uuid);
        for (auto& [index, ch] : d->channels) ch->setRecordFormat(f);
    }
}

void DomainRegistry::refresh(std::string_view uuid) {
    auto [it, added] = lookups_.try_emplace(std::string(uuid));
    it->second = source_.lookupActive(
        uuid, [this, key = it->first](Checked<std::optional<DomainSnapshot>> answer) {
            applyLookup(key, std::move(answer));
        });
}

void DomainRegistry::applyLookup(const std::string& uuid,
                                 Checked<std::optional<DomainSnapshot>> answer) {
    lookups_.erase(uuid);  // answered (uuid is a copy: the entry held the key)
    if (!answer) {
        // libvirt cannot answer: keep what we have and ask again (a lost
        // connection also reconciles everything when it comes back).
        LOG(Domains).warn("cannot look up {}: {}", uuid, answer.reason());
        refreshLater(uuid);
        return;
    }
    if (*answer) {
        sync(**answer);
    } else {
        remove(uuid, "not running");
    }
    settled(uuid);
}

void DomainRegistry::refreshLater(std::string_view uuid) {
    constexpr std::chrono::milliseconds kFirst{250}, kMax{10'000};
    auto [it, inserted] = refreshing_.try_emplace(std::string(uuid), PendingRefresh{{}, kFirst});
    if (!inserted && it->second.retry.pending()) return;  // one pending retry per domain
    PendingRefresh& p = it->second;
    p.retry = env_.retries.schedule(p.backoff, [this, key = it->first] { refresh(key); });
    p.backoff = std::min(p.backoff * 2, kMax);
}

void DomainRegistry::stopRefreshing(std::string_view uuid) {
    auto it = refreshing_.find(uuid);
    if (it == refreshing_.end()) return;
    refreshing_.erase(it);  // its Call cancels the retry
}

void DomainRegistry::sync(const DomainSnapshot& snap) {
    if (!snap.unreadable.empty()) {
        // Not "gone": its channels and frequency holds stay as they are.
        LOG(Domains).warn("{} ({}): cannot read its XML now, keeping what we know: {}", snap.name,
                          snap.uuid, snap.unreadable);
        refreshLater(snap.uuid);
        return;
    }
    stopRefreshing(snap.uuid);
    DomainDescription desc;
    try {
        desc = parseDomainXml(snap.xml);
    } catch (const std::exception& e) {
        LOG(Domains).error("{} ({}): unusable domain XML: {}", snap.name, snap.uuid, e.what());
        syncUnreadable(snap, e.what());
        return;
    }
    auto [it, inserted] = domains_.try_emplace(snap.uuid);
    if (inserted) {
        it->second = std::make_unique<Domain>(snap.name, snap.uuid);
        LOG(Domains).info("{}: running, {} power channel(s)", snap.name, desc.channels.size());
    }
    Domain& d = *it->second;
    d.identity.name = snap.name;  // a rename is possible while defined
    const bool first_read = !std::exchange(d.described, true);
    const bool was_unreadable = std::exchange(d.xml_unreadable, false);
    if (was_unreadable) LOG(Domains).info("{}: its XML is readable again", snap.name);
    d.id = desc.id;
    if (desc.problems != d.problems) {
        for (const auto& p : desc.problems) LOG(Domains).warn("{}: {}", snap.name, p);
        d.problems = desc.problems;
    }
    VcpuMap map(snap.vcpu_pins ? *snap.vcpu_pins : effectiveVcpuPins(desc, source_.hostCpus()));
    // Without <emulatorpin>, libvirt runs QEMU's own threads on <vcpu
    // cpuset>; without either, anywhere (empty here, every host CPU in the
    // footprint).
    CpuSet emulator = desc.emulatorpin.value_or(desc.vcpu_cpuset.value_or(CpuSet{}));
    CpuSet iothreads = iothreadCpus(desc, source_.hostCpus());
    if (!(map == d.vcpus) || !(emulator == d.emulator_pcpus) || !(iothreads == d.iothread_pcpus) ||
        was_unreadable) {
        const bool map_changed = !(map == d.vcpus);
        setPinning(d, std::move(map), std::move(emulator), std::move(iothreads));
        for (std::size_t v = 0; map_changed && v < d.vcpus.vcpuCount(); ++v) {
            LOG(Domains).debug("{}: vCPU {} on pCPUs {}", snap.name, v,
                               d.vcpus.pcpus(v).toString());
        }
    }
    // Only usable channels reach here (the one verdict, common/power_channel.h);
    // the others are among the problems.
    syncChannels(d, desc.channels);
    // How it appeared, told after its channels are open (so the guest's
    // first request after a migration finds them connected either way).
    std::optional<DomainArrival> arrival;
    if (auto start = starting_.find(snap.uuid); start != starting_.end()) {
        arrival = start->second ? DomainArrival::MigratedIn : DomainArrival::Started;
        starting_.erase(start);
    } else if (first_read) {
        arrival = DomainArrival::FoundRunning;
    }
    if (arrival && observer_ != nullptr)
        observer_->domainAppeared(d, snap, *arrival, env_.handler.accessRules(), *this);
}

void DomainRegistry::syncUnreadable(const DomainSnapshot& snap, const std::string& why) {
    auto [it, inserted] = domains_.try_emplace(snap.uuid);
    if (inserted) it->second = std::make_unique<Domain>(snap.name, snap.uuid);
    Domain& d = *it->second;
    d.identity.name = snap.name;
    d.problems = {"its XML cannot be read (" + why +
                  "): a stakeholder of every host CPU until it can be"};
    if (!std::exchange(d.xml_unreadable, true)) {
        LOG(Domains).warn(
            "{} ({}): running with an unreadable XML: no CPU it may run on can be "
            "slowed until its XML can be read",
            snap.name, snap.uuid);
    }
    reportFootprint(d);
}

void DomainRegistry::syncChannels(Domain& d, const std::vector<PowerChannel>& wanted) {
    std::set<unsigned> keep;
    RecordFormat format = env_.handler.accessRules().recordFormat(d.identity.name, d.identity.uuid);
    for (const auto& pc : wanted) {
        keep.insert(pc.index);
        auto it = d.channels.find(pc.index);
        if (it != d.channels.end() && it->second->description().source_path == pc.source_path) {
            // Same socket: an open connection survives (libvirtd restarts).
            // A refused socket is examined again whenever the domain changes
            // (its QEMU may have been replaced, or the pid file fixed).
            auto state = it->second->state();
            if (state == Channel::State::Closed || state == Channel::State::Refused)
                it->second->open();
            continue;
        }
        if (it != d.channels.end()) d.channels.erase(it);  // path changed
        auto ch = std::make_unique<Channel>(env_, d.identity, pc, format);
        ch->open();
        d.channels.emplace(pc.index, std::move(ch));
    }
    std::erase_if(d.channels, [&](const auto& kv) {
        if (keep.contains(kv.first)) return false;
        LOG(Domains).info("{}: channel {} removed from the domain", d.identity.name, kv.first);
        return true;
    });
}

void DomainRegistry::remove(std::string_view uuid, const char* why) {
    stopRefreshing(uuid);
    if (auto q = lookups_.find(uuid); q != lookups_.end())
        lookups_.erase(q);  // its answer is stale
    if (auto start = starting_.find(uuid); start != starting_.end()) starting_.erase(start);
    if (observer_ != nullptr) observer_->domainGone(uuid);
    auto it = domains_.find(uuid);
    if (it == domains_.end()) return;
    LOG(Domains).info("{}: {}, closing {} channel(s)", it->second->identity.name, why,
                      it->second->channels.size());
    std::string id(uuid);
    setPinning(*it->second, VcpuMap{}, CpuSet{}, CpuSet{});  // its footprint goes first
    domains_.erase(it);                                      // closes its channels
    power_.release(id);
}

void DomainRegistry::removeAll() {
    while (!domains_.empty()) remove(std::string(domains_.begin()->first), "agent stopping");
}

void DomainRegistry::setPinning(Domain& d, VcpuMap vcpus, CpuSet emulator, CpuSet iothreads) {
    countPcpus(d.vcpus.allPcpus(), -1);
    d.vcpus = std::move(vcpus);
    d.emulator_pcpus = std::move(emulator);
    d.iothread_pcpus = std::move(iothreads);
    countPcpus(d.vcpus.allPcpus(), +1);
    // The hardware's stakeholders follow at once. A domain being removed
    // (no vCPUs left) is forgotten by release() instead.
    if (d.vcpus.vcpuCount() > 0) reportFootprint(d);
}

void DomainRegistry::reportFootprint(const Domain& d) {
    // Emulator threads with no pinning may run on every host CPU; so may
    // every thread of a domain whose XML cannot be read.
    if (d.xml_unreadable) {
        power_.setFootprint(d.identity.uuid, d.identity.name, source_.hostCpus());
        return;
    }
    CpuSet cpus = d.emulator_pcpus.empty() ? source_.hostCpus() : d.emulator_pcpus;
    cpus |= d.vcpus.allPcpus();
    cpus |= d.iothread_pcpus;
    power_.setFootprint(d.identity.uuid, d.identity.name, cpus);
}

void DomainRegistry::countPcpus(const CpuSet& set, int delta) {
    for (unsigned cpu : set.cpus()) {
        if (cpu >= pcpu_users_.size()) pcpu_users_.resize(cpu + 1, 0);
        pcpu_users_[cpu] = static_cast<unsigned>(static_cast<int>(pcpu_users_[cpu]) + delta);
    }
}

bool DomainRegistry::sharedWithOtherDomain(std::string_view uuid, const CpuSet& pcpus) const {
    auto it = domains_.find(uuid);
    CpuSet mine = it == domains_.end() ? CpuSet{} : it->second->vcpus.allPcpus();
    for (unsigned cpu : pcpus.cpus()) {
        unsigned users = cpu < pcpu_users_.size() ? pcpu_users_[cpu] : 0;
        if (users > (mine.contains(cpu) ? 1U : 0U)) return true;
    }
    return false;
}

}  // namespace vmpower
