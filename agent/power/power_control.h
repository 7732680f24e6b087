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
    bool operator==(const Requester&) const = default;
};

// The requester uuid of `vmpowerctl set-cpu-freq`: root's override. Its
// holds count as every stakeholder's consent (see "Shared hardware" in
// docs/architecture.md).
inline constexpr std::string_view kOperatorUuid = "operator";

// What apply() did. Refused: nothing was written and no hold changed;
// `refusal` says why, naming the stakeholder that did not ask when the
// shared-hardware rule is the reason. `affected` (filled for the operator's
// requests only): the names of the running domains that run on the
// hardware written.
struct PowerVerdict {
    bool applied = false;
    std::string refusal;
    std::vector<std::string> affected;
    // Refused by the shared-hardware rule (a stakeholder did not ask), not
    // by cpufreq itself: the metrics count the two apart.
    bool shared_hardware = false;
    explicit operator bool() const { return applied; }
};

// One hold on a policy, for show-cpu-freq.
struct PowerHoldView {
    std::string holder;  // domain name (uuid when unknown), or "operator"
    unsigned vcpu = 0;   // with the PHYSICAL bit (1u << 31) for a PHYSICAL request
    std::optional<std::uint32_t> khz;
    std::optional<bool> turbo;
};

// A CPU's cpufreq policy and turbo switch as the arbiter sees them.
struct PowerDescription {
    std::string policy;                     // "policy2"
    CpuSet cpus;                            // affected_cpus
    std::vector<std::string> stakeholders;  // names of the domains that may run on them
    CpuSet host_cpus;                       // the host's own CPUs among them
    std::vector<PowerHoldView> holds;
    bool consent = false;  // may be slowed below what was found
    std::optional<std::uint32_t> found_ceiling_khz;
    std::optional<std::uint32_t> applied_khz;  // what the agent last wrote; none: as found
    std::string note;                          // why holds are not in force, if so
    std::optional<std::string> turbo_file;     // the policy's turbo switch, if any
    bool turbo_global = false;
    bool turbo_consent = false;
    std::optional<bool> turbo_applied;
};

// What one requester holds on one cpufreq policy (both empty: nothing).
struct HeldRequest {
    std::optional<std::uint32_t> khz;
    std::optional<bool> turbo;
    bool operator==(const HeldRequest&) const = default;
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
    // cpufreq policy domain). All or nothing: refused, nothing was written.
    // Hardware shared with a domain (or host CPU) that did not ask for it
    // too is never made slower than found.
    virtual PowerVerdict apply(const Requester& who, const CpuSet& pcpus, PowerAction action,
                               const FrequencyLimits& limits) = 0;

    // Where a running domain may run: every CPU its vCPUs or its emulator
    // threads may run on. It makes the domain a stakeholder of the policies
    // and turbo switches covering them. Call on start, re-pin and hot-plug.
    virtual void setFootprint(std::string_view domain_uuid, std::string_view name,
                              const CpuSet& cpus) = 0;

    // Drops every request the domain holds and its footprint (it stopped);
    // CPUs nobody holds any more go back to the state recorded before we
    // first touched them.
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

    // For vmpowerctl: the CPU's policy, its stakeholders and holds; nullopt
    // when the CPU has no cpufreq.
    virtual std::optional<PowerDescription> describe(unsigned pcpu) const = 0;
    // What `who` holds on the policy of `pcpu` (a VM's intent is made of
    // this, docs/operations.md "During a live migration").
    virtual HeldRequest heldBy(const Requester& who, unsigned pcpu) const = 0;
    // The host's own CPUs (stakeholders that never ask).
    virtual CpuSet hostCpus() const = 0;
    // The last refusal apply() gave the domain ("" if none since it started).
    virtual std::string lastRefusal(std::string_view domain_uuid) const = 0;
};

}  // namespace vmpower
