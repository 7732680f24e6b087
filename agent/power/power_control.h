#pragma once
// The seam between the request path and the hardware: what a guest's
// request may do to host CPUs. Implemented by the Arbiter (agent/cpufreq)
// over a CpufreqBackend; faked in request-path unit tests.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpu_set.h"
#include "power_action.h"

namespace vmpower {

// Who holds a frequency request: one vCPU of one domain.
struct Requester {
    std::string domain_uuid;
    unsigned vcpu = 0;
    friend bool operator==(const Requester&, const Requester&) = default;
};

// The policy's bounds for one VM, in kHz.
struct FrequencyLimits {
    std::uint32_t floor_khz = 0;
    std::uint32_t ceiling_khz = std::numeric_limits<std::uint32_t>::max();
};

class PowerControl {
  public:
    virtual ~PowerControl() = default;

    // Applies `action` for `who` on every CPU in `pcpus` (each CPU's whole
    // cpufreq policy domain). All or nothing: on false nothing was written.
    virtual bool apply(const Requester& who, const CpuSet& pcpus, PowerAction action,
                       const FrequencyLimits& limits) = 0;

    // Drops every request the domain holds (it stopped); CPUs nobody holds
    // any more go back to the state recorded before we first touched them.
    virtual void release(std::string_view domain_uuid) = 0;

    // A vCPU was re-pinned: its holds on CPUs outside `pinned` (whole policy
    // domains it no longer runs on) are dropped, as if released.
    virtual void releaseVcpuOutside(std::string_view domain_uuid, unsigned vcpu,
                                    const CpuSet& pinned) = 0;

    // For queries. nullopt / empty when the CPU has no cpufreq.
    virtual std::optional<std::uint32_t> currentFrequency(unsigned pcpu) const = 0;
    virtual std::vector<std::uint32_t> availableFrequencies(unsigned pcpu) const = 0;
    virtual bool turboCapable(unsigned pcpu) const = 0;
    // A high-priority (e.g. SST-BF base-frequency boosted) core.
    virtual bool highPriority(unsigned pcpu) const = 0;
};

}  // namespace vmpower
