#pragma once
// Who is behind a channel, as the agent knows it (never as the record says).

#include <string>
#include <string_view>

#include "cpu_set.h"
#include "vcpu_map.h"

namespace vmpower {

// What the request path knows of the VM behind a channel. Identity comes
// from the channel, never from the record's vm_name.
struct GuestIdentity {
    std::string name;
    std::string uuid;
    const VcpuMap* vcpus = nullptr;  // live map, owned by the registry
};

// Answers "does this domain's pinning share pCPUs with another running VM?"
class PcpuSharing {
  public:
    virtual ~PcpuSharing() = default;
    virtual bool sharedWithOtherDomain(std::string_view uuid, const CpuSet& pcpus) const = 0;
};

}  // namespace vmpower
