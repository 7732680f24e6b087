#pragma once
// The hypervisor as the agent asks it things: libvirt (LibvirtHypervisor) in
// the agent and in every integration test, FakeDomainSource in the
// registry's unit tests. An interface so the registry's reconcile logic does
// not depend on a connection's lifetime. Every call throws
// std::runtime_error when the hypervisor cannot answer (not connected,
// connection lost); callers at a loop boundary catch it.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// What a write of a domain's live metadata found.
enum class MetadataWrite {
    Written,
    // A job runs on the domain (a migration above all, or another client's
    // change): libvirt would hold the call until the job ends (up to 30 s,
    // stalling the agent's one loop), so it was not made. Ask again later.
    Busy,
    Gone,  // no such running domain
};

class DomainSource {
  public:
    virtual ~DomainSource() = default;
    // Running (or paused) domains. Throws std::runtime_error when libvirt
    // cannot answer (connection lost).
    virtual std::vector<DomainSnapshot> listActive() = 0;
    // nullopt: no such domain any more, or it is not active. Throws when
    // libvirt cannot answer.
    virtual std::optional<DomainSnapshot> lookupActive(std::string_view uuid) = 0;
    virtual CpuSet hostCpus() = 0;
    // Any defined domain, by name or UUID; nullopt: libvirt knows none.
    virtual std::optional<DomainName> lookupDefined(std::string_view name_or_uuid) = 0;
    // The live vCPU's affinity (the persistent config stays the admin's).
    // A TUNABLE event reports the change back.
    virtual void pinVcpu(std::string_view name, unsigned vcpu, const CpuSet& pcpus) = 0;
    // Sets the running domain's power intent element (xml/power_intent.h,
    // vmpower's intent namespace) in its live <metadata>; "" removes it.
    // Throws when libvirt cannot answer or refuses.
    virtual MetadataWrite setPowerIntent(std::string_view uuid, const std::string& element) = 0;
};

}  // namespace vmpower
