#pragma once
// What host policies measure, behind interfaces: the VM's own network
// interfaces (TRAFFIC) and its vCPU threads' branch counters
// (BRANCH_RATIO). The real sources are libvirt's bulk domain stats
// (agent/core) and perf_event_open (branch_counters_perf.h); tests use fakes.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "async_call.h"
#include "verdict.h"

namespace vmpower {

// One interface of a running domain.
struct InterfaceCounters {
    std::string device;                // the host side (vnet0, a VF's netdev, ...)
    std::optional<std::uint64_t> mac;  // in HostPolicy::macs' packing; none: unknown
    std::uint64_t rx_packets = 0;      // since the interface appeared
};

// By domain uuid.
using TrafficSample = std::map<std::string, std::vector<InterfaceCounters>, std::less<>>;

class TrafficSource {
  public:
    virtual ~TrafficSource() = default;
    // The interface counters of the domains named (by uuid), read off the
    // loop; `done` runs on the loop later (async_call.h). A domain missing
    // from the answer is not running or has no counters; a refusal is the
    // hypervisor's reason.
    virtual AsyncCall sample(std::vector<std::string> uuids, Done<TrafficSample> done) = 0;
};

struct BranchCounts {
    std::uint64_t branches = 0, misses = 0;  // since opened, over all its vCPU threads
};

class BranchCounterSource {
  public:
    virtual ~BranchCounterSource() = default;
    // Starts counting on the VM's vCPU threads `vcpus`: accepted when
    // counting, else refused with why (perf events unavailable, thread not
    // found, ...).
    virtual Verdict open(std::string_view uuid, std::string_view name,
                         const std::vector<unsigned>& vcpus) = 0;
    virtual void close(std::string_view uuid) = 0;
    // nullopt: not open, or unreadable now.
    virtual std::optional<BranchCounts> read(std::string_view uuid) = 0;
};

}  // namespace vmpower
