#pragma once
// Where the registry learns about domains: libvirt (LibvirtHypervisor) in
// the agent and in every integration test. An interface so the registry's
// reconcile logic does not depend on a connection's lifetime.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpu_set.h"

namespace vmpower {

struct DomainSnapshot {
    std::string uuid;
    std::string name;
    std::string xml;  // live XML
    // From virDomainGetVcpuPinInfo (the truth, placement='auto' included);
    // nullopt when the driver cannot say: the XML decides then.
    std::optional<std::vector<CpuSet>> vcpu_pins;
};

class DomainSource {
  public:
    virtual ~DomainSource() = default;
    // Running (or paused) domains. Throws std::runtime_error when libvirt
    // cannot answer (connection lost).
    virtual std::vector<DomainSnapshot> listActive() = 0;
    // nullopt: no such domain any more, or it is not active.
    virtual std::optional<DomainSnapshot> lookupActive(std::string_view uuid) = 0;
    virtual CpuSet hostCpus() = 0;
};

}  // namespace vmpower
