#pragma once
// What the registry reports about its domains to whoever keeps something
// per domain outside it (the PowerIntentKeeper): a domain appeared and how,
// a vCPU moved, a domain went. The registry only reports; what a migrated
// domain's intent means is decided by the observer, after the domain's
// channels are connected.

#include <string_view>

#include "cpu_set.h"
#include "domain.h"
#include "domain_source.h"

namespace vmpower {

class AccessRules;
class PcpuSharing;

enum class DomainArrival {
    Started,       // a STARTED event: a normal start
    MigratedIn,    // a STARTED event of an incoming live migration
    FoundRunning,  // already running when the agent (re)connected
};

class DomainObserver {
  public:
    // `d` was just read (`snap`: its XML), its channels opened. `policy` is
    // the rule set in force and `sharing` the registry's answers (what a
    // restored request is decided under).
    virtual void domainAppeared(const Domain& d, const DomainSnapshot& snap, DomainArrival how,
                                const AccessRules& policy, const PcpuSharing& sharing) = 0;
    // The vCPU's holds outside `pcpus` were released.
    virtual void vcpuRepinned(std::string_view uuid, unsigned vcpu, const CpuSet& pcpus) = 0;
    virtual void domainGone(std::string_view uuid) = 0;

  protected:
    ~DomainObserver() = default;
};

}  // namespace vmpower
