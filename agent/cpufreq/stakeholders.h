#pragma once
// Who runs on each cpufreq domain and turbo switch (the stakeholders), and
// who of them keeps it from being slowed: the consent half of the shared-
// hardware rule (docs/architecture.md, "Shared hardware").
//
// A domain's stakeholders: every VM whose footprint (the CPUs its vCPUs or
// emulator threads may run on) meets the domain's CPUs, plus the host when
// one of its own CPUs is among them. A switch's: the stakeholders of its
// domains; for a global switch every VM, and the host if it keeps any CPU
// or runs everywhere (nothing isolated, agent.host_cpus unset).
// The VMs among them that hold nothing there ("silent") are kept as a set,
// so finding who blocks costs no walk over the VMs.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cpu_set.h"
#include "cpufreq_backend.h"
#include "hold_book.h"
#include "power_control.h"
#include "topology.h"

namespace vmpower {

class Stakeholders {
  public:
    using Names = std::set<std::string, std::less<>>;  // VM uuids
    // What a footprint change touched: to be reconciled.
    struct Touched {
        std::set<CpufreqDomain> domains;
        std::set<TurboSwitch> switches;
    };
    struct Switch {
        bool global = false;
        std::vector<CpufreqDomain> domains;  // that share it
    };

    // `switch_of`: each domain's turbo switch (by domain index); `switches`:
    // each switch's kind and domains. `holds` is read for who holds what.
    // `drives` false (no cpufreq): only the VMs' names are kept.
    // `host_everywhere`: the host's tasks may run on every CPU (nothing
    // isolated, agent.host_cpus unset): a stakeholder of each global switch.
    Stakeholders(const CpufreqTopology& topology, const HoldBook& holds, bool drives,
                 const CpuSet& host_cpus, bool host_everywhere,
                 const std::vector<std::optional<TurboSwitch>>& switch_of,
                 const std::vector<Switch>& switches);

    // The VM may run on `cpus` (empty: nowhere). Returns the domains and
    // switches whose stakeholders changed.
    Touched setFootprint(std::string_view domain_uuid, std::string_view name, const CpuSet& cpus);
    // The VM stopped: it is nobody's stakeholder any more.
    Touched remove(std::string_view domain_uuid);
    // Keeps the silent sets in step with a hold change of the VM.
    void held(CpufreqDomain d, const Requester& who, const HoldBook::Change& change);

    // Who keeps the domain (switch) from being slowed, counting `asking`
    // (nullptr: nobody) as holding a level (wishing off) too; nullopt:
    // consent.
    std::optional<std::string> blocker(CpufreqDomain d, const Requester* asking) const;
    std::optional<std::string> switchBlocker(TurboSwitch s, const Requester* asking) const;

    const Names& of(CpufreqDomain d) const { return domains_[indexOf(d)].stakeholders; }
    const Names& of(TurboSwitch s) const { return switches_[indexOf(s)].stakeholders; }
    const CpuSet& hostCpusIn(CpufreqDomain d) const { return domains_[indexOf(d)].host; }
    // The VM's name as last reported (its uuid when unknown).
    std::string nameOf(std::string_view domain_uuid) const;

  private:
    struct DomainStake {
        CpuSet host;  // host CPUs among its CPUs
        Names stakeholders;
        Names silent;  // stakeholders holding no level here
        std::optional<TurboSwitch> turbo;
    };
    struct SwitchStake {
        bool global = false;
        bool host = false;             // a host CPU is under it
        bool host_everywhere = false;  // global, and the host may run anywhere
        Names stakeholders;
        Names silent;  // stakeholders holding no turbo wish
    };
    struct Footprint {
        std::string name;
        CpuSet cpus;
        std::vector<CpufreqDomain> domains;  // ascending
    };

    void setStake(CpufreqDomain d, const std::string& uuid, bool in);
    void setSwitchStake(TurboSwitch s, const std::string& uuid, bool in);

    const CpufreqTopology& topology_;
    const HoldBook& holds_;
    bool drives_;
    std::vector<DomainStake> domains_;
    std::vector<SwitchStake> switches_;
    std::vector<TurboSwitch> global_switches_;
    std::map<std::string, Footprint, std::less<>> footprints_;  // by uuid
};

}  // namespace vmpower
