#pragma once
// TRAFFIC's interface statistics out of libvirt, for the libvirt worker
// thread only (never the loop: on an OVS-DPDK host libvirt runs ovs-vsctl
// for every vhost-user port it reports): received packets of every
// interface of the TRAFFIC policy holders' own domains, in one
// virDomainListGetStats(VIR_DOMAIN_STATS_INTERFACE) call on their handles,
// each interface's MAC from the live XML. LibvirtHypervisor answers the
// TrafficSource with it; unit-tested on libvirt's test driver.

#include <libvirt/libvirt.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "libvirt_handles.h"
#include "policy_sources.h"

namespace vmpower {

// net.<i>.name and net.<i>.rx.pkts of one domain's statistics, by the
// interface's index (no MACs: the stats have none).
std::map<unsigned, InterfaceCounters> interfacesOf(const virDomainStatsRecord& rec);

class TrafficReader {
  public:
    // The interfaces of the domains `uuids` (not running, or not defined:
    // missing from the answer, or there with no interfaces), with their
    // MACs. Keeps each domain's handle and MACs for the next read and drops
    // those of domains no longer asked about. Throws std::runtime_error with
    // libvirt's reason when libvirt cannot answer.
    TrafficSample read(virConnectPtr conn, const std::vector<std::string>& uuids);

    // The domain stopped or went: its handle and MACs go (its next run has
    // other host devices).
    void forget(std::string_view uuid);
    // Its devices changed: the MACs are read again at the next read.
    void domainChanged(std::string_view uuid);
    // The connection went: every handle goes with it.
    void clear() { domains_.clear(); }

    std::size_t cachedDomains() const { return domains_.size(); }

  private:
    struct Watched {
        DomainHandle dom;
        bool read_xml = false;  // MACs read for this run of the domain
        std::map<std::string, std::uint64_t, std::less<>> macs;  // host device -> MAC
        std::set<std::string, std::less<>> unresolved;           // in the stats, not in the XML
    };

    // The handles of `uuids` that libvirt knows, looked up when new.
    std::vector<virDomainPtr> handles(virConnectPtr conn, const std::vector<std::string>& uuids);
    void resolveMacs(Watched& w, std::vector<InterfaceCounters>& nics);

    virConnectPtr conn_ = nullptr;                         // the one the handles belong to
    std::map<std::string, Watched, std::less<>> domains_;  // by uuid
};

}  // namespace vmpower
