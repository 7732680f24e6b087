#pragma once
// The seam between the request path and the hardware: what a guest's
// request may do to host CPUs. Implemented by the Arbiter (agent/cpufreq)
// over a CpufreqBackend; faked in request-path unit tests.

#include <compare>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cpu_set.h"
#include "power_action.h"

namespace vmpower {

// Who holds a frequency level: a VM's vCPU, a VM's PHYSICAL request on one
// host CPU, a VM's host policy on one of its vCPUs, or the operator
// (`vmpowerctl set-cpu-freq`) on one host CPU. Each holds its own level
// beside the others: a host policy's hold sits beside the vCPU's own
// requests, so removing the policy leaves those as they were. Compared by
// value; ordered by domain (the operator last), then kind, then number.
class Requester {
  public:
    enum class Kind : std::uint8_t { Vcpu, HostPolicy, Physical, Operator };

    Requester() = default;
    static Requester vcpu(std::string_view domain_uuid, unsigned vcpu) {
        return {Kind::Vcpu, domain_uuid, vcpu};
    }
    static Requester physical(std::string_view domain_uuid, unsigned pcpu) {
        return {Kind::Physical, domain_uuid, pcpu};
    }
    static Requester hostPolicy(std::string_view domain_uuid, unsigned vcpu) {
        return {Kind::HostPolicy, domain_uuid, vcpu};
    }
    // Root's override. Its holds count as every stakeholder's consent (see
    // "Shared hardware" in docs/architecture.md); one per host CPU asked.
    static Requester operatorOverride(unsigned pcpu) { return {Kind::Operator, {}, pcpu}; }

    Kind kind() const { return kind_; }
    bool isOperator() const { return kind_ == Kind::Operator; }
    // The VM's uuid; empty for the operator.
    const std::string& domainUuid() const { return domain_uuid_; }
    // The vCPU (Vcpu, HostPolicy) or host CPU (Physical, Operator).
    unsigned number() const { return number_; }
    // For logs: "<uuid> vcpu 1", "<uuid> pcpu 5", "<uuid> host policy vcpu
    // 1", "operator cpu 2".
    std::string toString() const;

    bool operator==(const Requester&) const = default;
    std::strong_ordering operator<=>(const Requester& o) const {
        if (auto c = isOperator() <=> o.isOperator(); c != 0) return c;
        if (auto c = domain_uuid_.compare(o.domain_uuid_) <=> 0; c != 0) return c;
        if (auto c = kind_ <=> o.kind_; c != 0) return c;
        return number_ <=> o.number_;
    }

  private:
    Requester(Kind kind, std::string_view domain_uuid, unsigned number)
        : kind_(kind), domain_uuid_(domain_uuid), number_(number) {}

    Kind kind_ = Kind::Vcpu;
    std::string domain_uuid_;
    unsigned number_ = 0;
};

inline std::string Requester::toString() const {
    const std::string n = std::to_string(number_);
    switch (kind_) {
        case Kind::Vcpu:
            return domain_uuid_ + " vcpu " + n;
        case Kind::Physical:
            return domain_uuid_ + " pcpu " + n;
        case Kind::HostPolicy:
            return domain_uuid_ + " host policy vcpu " + n;
        case Kind::Operator:
            break;
    }
    return "operator cpu " + n;
}

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
    // Refused because the operator holds the hardware (set-cpu-freq) until
    // it releases it.
    bool held_by_operator = false;
    explicit operator bool() const { return applied; }
};

// One hold on a cpufreq policy, for show-cpu-freq.
struct PowerHoldView {
    Requester who;
    std::string name;  // the holder's domain name (uuid when unknown); empty for the operator
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
    std::string note;  // the operator holds it; why holds are not in force, if so
    std::optional<std::string> turbo_file;  // the policy's turbo switch, if any
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

    // A vCPU was re-pinned: `who`'s holds on CPUs outside `pinned` (whole
    // policy domains it no longer runs on) are dropped, as if released.
    virtual void releaseOutside(const Requester& who, const CpuSet& pinned) = 0;
    // Drops every hold of `who` (a host policy removed), as if released.
    virtual void releaseHolder(const Requester& who) = 0;

    // For queries. nullopt / empty when the CPU has no cpufreq.
    virtual std::optional<std::uint32_t> currentFrequency(unsigned pcpu) const = 0;
    // Ascending; the steps are read once at start, so the span stays valid
    // (and the request path copies nothing).
    virtual std::span<const std::uint32_t> availableFrequencies(unsigned pcpu) const = 0;
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
