#include "domain_registry.h"

#include <libvirt/libvirt.h>
#include <spdlog/spdlog.h>

#include <set>

#include "domain_xml.h"

namespace vmpower {

DomainRegistry::DomainRegistry(ChannelEnv& env, DomainSource& source, PowerControl& power)
    : env_(env), source_(source), power_(power) {}

DomainRegistry::~DomainRegistry() {
    removeAll();
}

const Domain* DomainRegistry::find(std::string_view uuid) const {
    auto it = domains_.find(uuid);
    return it == domains_.end() ? nullptr : it->second.get();
}

bool DomainRegistry::reconcile() {
    std::vector<DomainSnapshot> active;
    try {
        active = source_.listActive();
    } catch (const std::exception& e) {
        spdlog::error("cannot list domains: {}", e.what());
        return false;
    }
    std::set<std::string, std::less<>> seen;
    for (const auto& snap : active) {
        seen.insert(snap.uuid);
        sync(snap);
    }
    std::vector<std::string> gone;
    for (const auto& [uuid, d] : domains_) {
        if (!seen.contains(uuid)) gone.push_back(uuid);
    }
    for (const auto& uuid : gone) remove(uuid, "no longer running");
    spdlog::info("reconciled: {} running domain(s), {} tracked", active.size(), domains_.size());
    return true;
}

void DomainRegistry::onLifecycle(std::string_view uuid, int event, int detail) noexcept {
    try {
        spdlog::debug("lifecycle {} event {} detail {}", uuid, event, detail);
        switch (event) {
            case VIR_DOMAIN_EVENT_STOPPED:
                // Gone already (destroyed, shut off, migrated away, crashed...).
                remove(uuid, "stopped");
                break;
            case VIR_DOMAIN_EVENT_SHUTDOWN:
                // The guest shut down; STOPPED follows when QEMU exits.
                break;
            default:
                // STARTED, RESUMED, SUSPENDED, DEFINED, UNDEFINED, CRASHED,
                // PMSUSPENDED: ask libvirt what is true now.
                refresh(uuid);
        }
    } catch (const std::exception& e) {
        spdlog::error("lifecycle event for {}: {}", uuid, e.what());
    }
}

void DomainRegistry::onTunable(
    std::string_view uuid,
    const std::vector<std::pair<std::string, std::string>>& params) noexcept {
    try {
        auto it = domains_.find(uuid);
        if (it == domains_.end()) return;
        Domain& d = *it->second;
        static constexpr std::string_view kPin = "cputune.vcpupin";
        for (const auto& [key, value] : params) {
            if (key == "cputune.emulatorpin") {
                if (auto set = CpuSet::parse(value)) d.emulator_pcpus = *set;
                continue;
            }
            if (!key.starts_with(kPin)) continue;
            std::string_view num = std::string_view(key).substr(kPin.size());
            unsigned vcpu = 0;
            bool ok = !num.empty() && num.size() < 6;
            for (char c : num) {
                ok = ok && c >= '0' && c <= '9';
                if (ok) vcpu = vcpu * 10 + static_cast<unsigned>(c - '0');
            }
            auto set = CpuSet::parse(value);
            if (!ok || !set || set->empty() || vcpu >= CpuSet::kMaxCpu) {
                spdlog::warn("{}: ignoring tunable {}='{}'", d.identity.name, key, value);
                continue;
            }
            spdlog::info("{}: vCPU {} now on pCPUs {}", d.identity.name, vcpu, set->toString());
            VcpuMap updated = d.vcpus;
            updated.setPcpus(vcpu, *set);
            setVcpuMap(d, std::move(updated));
            // Its requests on CPUs it left no longer speak for it.
            power_.releaseVcpuOutside(d.identity.uuid, vcpu, *set);
        }
        reportFootprint(d);
    } catch (const std::exception& e) {
        spdlog::error("tunable event for {}: {}", uuid, e.what());
    }
}

void DomainRegistry::onDeviceChanged(std::string_view uuid, std::string_view alias) noexcept {
    try {
        spdlog::debug("device {} changed in {}", alias, uuid);
        // The event names only the alias: the live XML tells what it is.
        refresh(uuid);
    } catch (const std::exception& e) {
        spdlog::error("device event for {}: {}", uuid, e.what());
    }
}

void DomainRegistry::onPolicyChanged() {
    for (auto& [uuid, d] : domains_) {
        RecordFormat f = formatFor(*d);
        for (auto& [index, ch] : d->channels) ch->setRecordFormat(f);
    }
}

void DomainRegistry::refresh(std::string_view uuid) {
    std::optional<DomainSnapshot> snap;
    try {
        snap = source_.lookupActive(uuid);
    } catch (const std::exception& e) {
        // libvirt is unreachable: keep what we have, reconcile on reconnect.
        spdlog::warn("cannot look up {}: {}", uuid, e.what());
        return;
    }
    if (snap) {
        sync(*snap);
    } else {
        remove(uuid, "not running");
    }
}

void DomainRegistry::sync(const DomainSnapshot& snap) {
    DomainDescription desc;
    try {
        desc = parseDomainXml(snap.xml);
    } catch (const std::exception& e) {
        spdlog::error("{} ({}): unusable domain XML: {}", snap.name, snap.uuid, e.what());
        return;
    }
    auto [it, inserted] = domains_.try_emplace(snap.uuid);
    if (inserted) {
        it->second = std::make_unique<Domain>(snap.name, snap.uuid);
        spdlog::info("{}: running, {} power channel(s)", snap.name, desc.channels.size());
    }
    Domain& d = *it->second;
    for (const auto& pc : desc.channels) {
        if (pc.source_mode == "connect") {
            desc.problems.push_back("channel " + pc.target_name +
                                    ": source mode='connect' (QEMU as client) is not "
                                    "supported; use mode='bind' (vmpower-provision does)");
        }
    }
    d.identity.name = snap.name;  // a rename is possible while defined
    d.id = desc.id;
    // Without <emulatorpin> libvirt runs QEMU's own threads on <vcpu cpuset>.
    d.emulator_pcpus = desc.emulatorpin.value_or(desc.vcpu_cpuset.value_or(CpuSet{}));
    if (desc.problems != d.problems) {
        for (const auto& p : desc.problems) spdlog::warn("{}: {}", snap.name, p);
        d.problems = desc.problems;
    }
    VcpuMap map(snap.vcpu_pins ? *snap.vcpu_pins : effectiveVcpuPins(desc, source_.hostCpus()));
    if (!(map == d.vcpus)) {
        setVcpuMap(d, std::move(map));
        for (std::size_t v = 0; v < d.vcpus.vcpuCount(); ++v) {
            spdlog::debug("{}: vCPU {} on pCPUs {}", snap.name, v, d.vcpus.pcpus(v).toString());
        }
    }
    reportFootprint(d);
    // QEMU must be the server (mode='bind'); with mode='connect' QEMU dials
    // out to a listener we do not run (reported as a problem above).
    std::vector<PowerChannel> usable;
    for (auto& pc : desc.channels) {
        if (pc.source_mode != "connect") usable.push_back(std::move(pc));
    }
    syncChannels(d, usable);
}

void DomainRegistry::syncChannels(Domain& d, const std::vector<PowerChannel>& wanted) {
    std::set<unsigned> keep;
    RecordFormat format = formatFor(d);
    for (const auto& pc : wanted) {
        keep.insert(pc.index);
        auto it = d.channels.find(pc.index);
        if (it != d.channels.end() && it->second->description().source_path == pc.source_path) {
            // Same socket: an open connection survives (libvirtd restarts).
            if (it->second->state() == Channel::State::Closed) it->second->open();
            continue;
        }
        if (it != d.channels.end()) d.channels.erase(it);  // path changed
        auto ch = std::make_unique<Channel>(env_, d.identity, pc, format);
        ch->open();
        d.channels.emplace(pc.index, std::move(ch));
    }
    std::erase_if(d.channels, [&](const auto& kv) {
        if (keep.contains(kv.first)) return false;
        spdlog::info("{}: channel {} removed from the domain", d.identity.name, kv.first);
        return true;
    });
}

void DomainRegistry::remove(std::string_view uuid, const char* why) {
    auto it = domains_.find(uuid);
    if (it == domains_.end()) return;
    spdlog::info("{}: {}, closing {} channel(s)", it->second->identity.name, why,
                 it->second->channels.size());
    std::string id(uuid);
    countPcpus(it->second->vcpus.allPcpus(), -1);
    domains_.erase(it);  // closes its channels
    power_.release(id);
}

void DomainRegistry::removeAll() {
    while (!domains_.empty()) remove(std::string(domains_.begin()->first), "agent stopping");
}

RecordFormat DomainRegistry::formatFor(const Domain& d) const {
    const VmPolicy* rule = env_.handler.policy().match(d.identity.name, d.identity.uuid);
    return rule ? rule->record_format : RecordFormat::Dpdk464;
}

void DomainRegistry::setVcpuMap(Domain& d, VcpuMap map) {
    countPcpus(d.vcpus.allPcpus(), -1);
    d.vcpus = std::move(map);
    countPcpus(d.vcpus.allPcpus(), +1);
}

void DomainRegistry::countPcpus(const CpuSet& set, int delta) {
    for (unsigned cpu : set.cpus()) {
        if (cpu >= pcpu_users_.size()) pcpu_users_.resize(cpu + 1, 0);
        pcpu_users_[cpu] = static_cast<unsigned>(static_cast<int>(pcpu_users_[cpu]) + delta);
    }
}

void DomainRegistry::reportFootprint(Domain& d) {
    // Emulator threads with no pinning may run on every host CPU.
    CpuSet cpus = d.emulator_pcpus.empty() ? source_.hostCpus() : d.emulator_pcpus;
    cpus |= d.vcpus.allPcpus();
    power_.setFootprint(d.identity.uuid, d.identity.name, cpus);
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
