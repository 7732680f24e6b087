#pragma once
// What the hypervisor tells the registry about one domain, in the registry's
// words. The libvirt adapter (LibvirtHypervisor) translates libvirt's
// LIFECYCLE, TUNABLE and DEVICE_* events into these; tests make them up. The
// registry knows no libvirt.

#include <array>
#include <string>
#include <string_view>
#include <variant>

#include "cpu_set.h"

namespace vmpower {

// `migrated`: one half of a live migration. The destination's domain is
// STARTED (paused) before the source's is SUSPENDED, then RESUMED here and
// STOPPED there; a failed migration RESUMES the source instead. Until STOPPED
// the source keeps everything, so a failed migration finds it as it was.
struct DomainStarted {  // it runs now (paused, if arriving by migration): read it
    bool migrated = false;
};
struct DomainStopped {  // gone (destroyed, shut off, crashed, migrated away)
    bool migrated = false;
};
struct DomainChanged {  // resumed, suspended, defined, ...: read it again
    bool migrated = false;
};
struct VcpuRepinned {  // one vCPU's pCPU set changed
    unsigned vcpu = 0;
    CpuSet pcpus;
};
struct EmulatorRepinned {  // QEMU's own threads moved
    CpuSet pcpus;
};
struct DeviceAdded {  // only the alias is known: read the domain again
    std::string alias;
};
struct DeviceRemoved {
    std::string alias;
};
struct JobEnded {};  // a job on the domain (a migration, a dump) completed


using DomainEvent = std::variant<DomainStarted, DomainStopped, DomainChanged, VcpuRepinned,
                                 EmulatorRepinned, DeviceAdded, DeviceRemoved, JobEnded>;

// Each alternative's name, in the variant's order (metrics, logs).
inline constexpr std::array<std::string_view, std::variant_size_v<DomainEvent>> kDomainEventNames{
    "started", "stopped", "changed", "vcpu_repinned", "emulator_repinned", "device_added",
    "device_removed", "job_ended"};
inline std::string_view domainEventName(const DomainEvent& e) {
    return kDomainEventNames[e.index()];
}

// Who hears the hypervisor: the Agent, which hands everything to the
// registry. Called from the event loop; implementations never throw.
class DomainEventListener {
  public:
    // After every (re)connect: the registry reconciles its picture with the
    // running domains (a domain gone while we were away is removed, a new
    // one added).
    virtual void onConnected() = 0;
    virtual void onDomainEvent(std::string_view uuid, const DomainEvent& event) = 0;

  protected:
    ~DomainEventListener() = default;
};

}  // namespace vmpower
