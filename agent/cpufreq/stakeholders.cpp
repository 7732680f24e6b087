#include "stakeholders.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>

#include "log.h"

namespace vmpower {

Stakeholders::Stakeholders(const CpufreqTopology& topology, const HoldBook& holds, bool drives,
                           const CpuSet& host_cpus, bool host_everywhere,
                           const std::vector<std::optional<TurboSwitch>>& switch_of,
                           const std::vector<Switch>& switches)
    : topology_(topology),
      holds_(holds),
      drives_(drives),
      domains_(topology.domainCount()),
      switches_(switches.size()) {
    for (std::size_t i = 0; i < domains_.size(); ++i) {
        const CpufreqDomain d{static_cast<std::uint32_t>(i)};
        for (unsigned cpu : topology.policy(d).cpus.cpus()) {
            if (host_cpus.contains(cpu)) domains_[i].host.add(cpu);
        }
        domains_[i].turbo = i < switch_of.size() ? switch_of[i] : std::nullopt;
    }
    for (std::size_t k = 0; k < switches.size(); ++k) {
        SwitchStake& s = switches_[k];
        s.global = switches[k].global;
        s.host_everywhere = s.global && host_everywhere;
        s.host = (s.global && !host_cpus.empty()) || s.host_everywhere;
        for (CpufreqDomain d : switches[k].domains) {
            if (!domains_[indexOf(d)].host.empty()) s.host = true;
        }
        if (s.global) global_switches_.push_back(TurboSwitch{static_cast<std::uint32_t>(k)});
    }
}

std::string Stakeholders::nameOf(std::string_view domain_uuid) const {
    auto it = footprints_.find(domain_uuid);
    return it == footprints_.end() || it->second.name.empty() ? std::string(domain_uuid)
                                                              : it->second.name;
}

std::optional<std::string> Stakeholders::blocker(CpufreqDomain d, const Requester* asking) const {
    const DomainStake& s = domains_[indexOf(d)];
    if ((asking && asking->isOperator()) || holds_.operatorHoldsLevel(d)) return std::nullopt;
    if (!s.host.empty()) return fmt::format("host CPU {} (agent.host_cpus)", s.host.toString());
    for (const auto& uuid : s.silent) {
        if (!asking || uuid != asking->domainUuid()) return nameOf(uuid);  // at most two iterations
    }
    return std::nullopt;
}

std::optional<std::string> Stakeholders::switchBlocker(TurboSwitch k,
                                                       const Requester* asking) const {
    const SwitchStake& s = switches_[indexOf(k)];
    if ((asking && asking->isOperator()) || holds_.operatorWishes(k)) return std::nullopt;
    if (s.host_everywhere) {
        return std::string(
            "the host (no CPU isolated and agent.host_cpus unset: its own tasks may run on every "
            "CPU)");
    }
    if (s.host) return std::string("the host's own CPUs (agent.host_cpus)");
    for (const auto& uuid : s.silent) {
        if (!asking || uuid != asking->domainUuid()) return nameOf(uuid);
    }
    return std::nullopt;
}

void Stakeholders::held(CpufreqDomain d, const Requester& who, const HoldBook::Change& change) {
    if (who.isOperator()) return;  // never a stakeholder
    const std::string& uuid = who.domainUuid();
    DomainStake& s = domains_[indexOf(d)];
    if (change.level_lost && s.stakeholders.contains(uuid)) s.silent.emplace(uuid);
    if (change.level_gained) {
        if (auto q = s.silent.find(uuid); q != s.silent.end()) s.silent.erase(q);
    }
    if (!s.turbo) return;
    SwitchStake& k = switches_[indexOf(*s.turbo)];
    if (change.wish_lost && k.stakeholders.contains(uuid)) k.silent.emplace(uuid);
    if (change.wish_gained) {
        if (auto q = k.silent.find(uuid); q != k.silent.end()) k.silent.erase(q);
    }
}

void Stakeholders::setStake(CpufreqDomain d, const std::string& uuid, bool in) {
    DomainStake& s = domains_[indexOf(d)];
    if (in) {
        if (s.stakeholders.insert(uuid).second && !holds_.holdsLevel(d, uuid))
            s.silent.insert(uuid);
    } else {
        s.stakeholders.erase(uuid);
        s.silent.erase(uuid);
    }
}

void Stakeholders::setSwitchStake(TurboSwitch k, const std::string& uuid, bool in) {
    SwitchStake& s = switches_[indexOf(k)];
    if (in) {
        if (s.stakeholders.insert(uuid).second && !holds_.wishes(k, uuid)) s.silent.insert(uuid);
    } else {
        s.stakeholders.erase(uuid);
        s.silent.erase(uuid);
    }
}

Stakeholders::Touched Stakeholders::setFootprint(std::string_view domain_uuid,
                                                 std::string_view name, const CpuSet& cpus) {
    const std::string uuid(domain_uuid);
    auto [it, added] = footprints_.try_emplace(uuid);
    Footprint& fp = it->second;
    fp.name = std::string(name);
    Touched touched;
    if (!added && fp.cpus == cpus) return touched;
    std::vector<CpufreqDomain> now;
    for (unsigned cpu : cpus.cpus()) {
        if (auto d = topology_.domainOf(cpu)) now.push_back(*d);
    }
    std::sort(now.begin(), now.end());
    now.erase(std::unique(now.begin(), now.end()), now.end());
    std::vector<CpufreqDomain> left, joined;
    std::set_difference(fp.domains.begin(), fp.domains.end(), now.begin(), now.end(),
                        std::back_inserter(left));
    std::set_difference(now.begin(), now.end(), fp.domains.begin(), fp.domains.end(),
                        std::back_inserter(joined));
    const bool was_anywhere = !fp.cpus.empty();
    fp.cpus = cpus;
    fp.domains = now;
    if (!drives_) return touched;

    for (CpufreqDomain d : left) setStake(d, uuid, false);
    for (CpufreqDomain d : joined) setStake(d, uuid, true);
    for (const auto* list : {&left, &joined}) {
        for (CpufreqDomain d : *list) {
            touched.domains.insert(d);
            auto k = domains_[indexOf(d)].turbo;
            if (k && !switches_[indexOf(*k)].global) {
                setSwitchStake(*k, uuid, of(d).contains(uuid));
                touched.switches.insert(*k);
            }
        }
    }
    if (was_anywhere != !cpus.empty()) {
        for (TurboSwitch k : global_switches_) {
            setSwitchStake(k, uuid, !cpus.empty());
            touched.switches.insert(k);
        }
    }
    if (!touched.domains.empty() || !touched.switches.empty()) {
        LOG(Cpufreq).debug("cpufreq: {} may run on CPUs {} ({} policies changed stakeholders)",
                           name, cpus.toString(), touched.domains.size());
    }
    return touched;
}

Stakeholders::Touched Stakeholders::remove(std::string_view domain_uuid) {
    Touched touched;
    auto fp = footprints_.find(domain_uuid);
    if (fp == footprints_.end()) return touched;
    if (drives_) {
        const std::string uuid = fp->first;
        for (CpufreqDomain d : fp->second.domains) {
            setStake(d, uuid, false);
            touched.domains.insert(d);
            if (auto k = domains_[indexOf(d)].turbo) {
                setSwitchStake(*k, uuid, false);
                touched.switches.insert(*k);
            }
        }
        for (TurboSwitch k : global_switches_) {
            setSwitchStake(k, uuid, false);
            touched.switches.insert(k);
        }
    }
    footprints_.erase(fp);
    return touched;
}

}  // namespace vmpower
