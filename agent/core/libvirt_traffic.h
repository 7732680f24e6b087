#pragma once
// Interface counters of the domains with a TRAFFIC policy, read on the
// libvirt worker thread (libvirt_worker.h): the worker's own state.

#include <libvirt/libvirt.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "policy_sources.h"

namespace vmpower {

class TrafficReader {
  public:
    // The named domains' received packets per interface, MACs resolved from
    // the live XML. Throws std::runtime_error with libvirt's reason.
    TrafficSample read(virConnectPtr conn, const std::vector<std::string>& uuids);

  private:
    // Host device -> MAC per domain uuid, from the live XML; read again only
    // when the stats name a device it does not know.
    std::map<std::string, std::map<std::string, std::uint64_t>, std::less<>> macs_;
};

}  // namespace vmpower
