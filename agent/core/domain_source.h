#pragma once
// The hypervisor as the agent asks it things: libvirt (LibvirtHypervisor) in
// the agent and in every integration test, FakeDomainSource in the
// registry's unit tests. An interface so the registry's reconcile logic does
// not depend on a connection's lifetime.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "async_call.h"
#include "cpu_set.h"
#include "domain_name.h"

namespace vmpower {

struct DomainSnapshot {
    std::string uuid;
    std::string name;
    std::string xml;  // live XML
    // From virDomainGetVcpuPinInfo (the truth, placement='auto' included);
    // nullopt when the driver cannot say: the XML decides then.
    std::optional<std::vector<CpuSet>> vcpu_pins;
    // Non-empty: the domain exists (libvirt listed or found it) but could
    // not be read now (libvirt's error). It is NOT gone: only libvirt's "no
    // such domain" means gone. The registry keeps it and asks again later.
    std::string unreadable;
};

struct ActiveDomains {
    std::vector<DomainSnapshot> domains;
    CpuSet host_cpus;  // online, as the hypervisor reports them
};

// What a write of a domain's live metadata found.
enum class MetadataWrite {
    Written,
    // A job runs on the domain (a migration above all, a dump, or another
    // client's change): libvirt would hold the call until the job ends (up
    // to 30 s), so it was not made. Ask again when the job has ended.
    Busy,
    Gone,  // no such running domain
};

// Every call runs off the loop (LibvirtHypervisor: on its worker thread)
// and answers through `done` on the loop, later (async_call.h): a refusal
// is the hypervisor's reason (not connected, connection lost, libvirt's
// error text). Dropping the returned AsyncCall drops the answer.
class DomainSource {
  public:
    virtual ~DomainSource() = default;
    // Running (or paused) domains, with the host's online CPUs.
    virtual AsyncCall listActive(Done<ActiveDomains> done) = 0;
    // nullopt: no such domain any more, or it is not active.
    virtual AsyncCall lookupActive(std::string_view uuid,
                                   Done<std::optional<DomainSnapshot>> done) = 0;
    // The host's online CPUs as last read (empty before the first answer
    // of listActive/lookupActive). Never a call to the hypervisor.
    virtual CpuSet hostCpus() const = 0;
    // Any defined domain, by name or UUID; nullopt: libvirt knows none.
    virtual AsyncCall lookupDefined(std::string_view name_or_uuid,
                                    Done<std::optional<DomainName>> done) = 0;
    // The live vCPU's affinity (the persistent config stays the admin's).
    // A TUNABLE event reports the change back.
    virtual AsyncCall pinVcpu(std::string_view name, unsigned vcpu, const CpuSet& pcpus,
                              DoneVerdict done) = 0;
    // Sets the running domain's power intent element (xml/power_intent.h,
    // vmpower's intent namespace) in its live <metadata>; "" removes it.
    // Busy when any job (sync or async: a migration, a dump) runs on it.
    virtual AsyncCall setPowerIntent(std::string_view uuid, const std::string& element,
                                     Done<MetadataWrite> done) = 0;
};

}  // namespace vmpower
