#pragma once
// Arbitrates guests' frequency requests over the kernel's cpufreq policy
// domains and drives the backend, under one invariant (docs/architecture.md,
// "Shared hardware"): a guest never slows hardware that anyone else runs on,
// unless they asked for it too.
//
// Holds. Each requester (domain uuid + vCPU) holds at most one level and
// one turbo wish per policy. ScaleUp/ScaleDown move the requester's own
// level one step from its held level (or from the current frequency when it
// holds none); Max/Min go to the ends; the requester's FrequencyLimits bound
// the steps it may choose.
//
// Stakeholders. Per policy: every domain whose footprint (setFootprint: the
// CPUs its vCPUs or emulator threads may run on) meets the policy's CPUs,
// plus the host when one of the host's own CPUs is among them (a domain
// that never reported a footprint is nobody's stakeholder). Per turbo
// switch: the stakeholders of its policy; for a global switch
// (intel_pstate/no_turbo, cpufreq/boost) every domain, and the host if it
// keeps any CPU.
//
// Consent. A policy has it when every stakeholder domain holds a level on
// it and no host CPU is in it, or when the operator (kOperatorUuid) holds a
// level on it. A switch has it when every stakeholder holds a turbo wish
// (on or off) and the host is none of them, or when the operator wishes it
// off. Holding anything is consent because the highest hold wins: a
// stakeholder that holds max (or turbo on) is not slowed by the others'
// lower holds. (Were only "off" wishes consent, two VMs on one global
// switch could never turn turbo off: each one's off would be refused while
// the other had none.) So VMs sharing a policy slow it together by first
// holding a level each (max is always allowed, it is a raise), then asking
// for less.
//
// What is written. A policy nobody holds is as found (restored from the
// journal). With consent it runs at the highest level held. Without, the
// highest level held is written only if it is at least the policy's found
// ceiling (a raise); otherwise the policy is put back as found and the holds
// are kept, to take effect when consent returns (a stakeholder leaves). A
// switch is on if anyone wants it on; off if someone wants it off and it has
// consent or was found off; else as found.
//
// Refusals. apply() refuses, writing nothing and changing no hold, a request
// whose own new level is below the found ceiling of a policy without consent
// (with its hold counted), or turbo off on a switch found on without consent.
//
// Footprint changes re-reconcile exactly the policies and switches whose
// stakeholders changed. A frequency request costs O(log) in the number of
// domains (counts of holders per policy, a set of stakeholders holding
// nothing), never a walk over all domains.
//
// Before the first write to a policy or switch its files are journaled;
// they are restored byte for byte when nobody holds them any more (or the
// holds are not in force), on restoreAll() and on destruction.
//
// Not thread safe: the agent's one loop calls it.

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cpufreq_backend.h"
#include "power_control.h"
#include "restore_journal.h"
#include "sysfs.h"
#include "topology.h"

namespace vmpower {

class Arbiter final : public PowerControl {
  public:
    // `backend` null: the machine has no cpufreq; every apply() is refused.
    // `host_cpus`: the CPUs the host keeps for itself (stakeholders that
    // never ask).
    Arbiter(std::unique_ptr<Sysfs> sysfs, CpufreqTopology topology,
            std::unique_ptr<CpufreqBackend> backend, const std::filesystem::path& journal_file,
            CpuSet host_cpus = {}, std::string boot_id = {});
    ~Arbiter() override;  // restoreAll()
    Arbiter(const Arbiter&) = delete;
    Arbiter& operator=(const Arbiter&) = delete;

    PowerVerdict apply(const Requester& who, const CpuSet& pcpus, PowerAction action,
                       const FrequencyLimits& limits) override;
    void setFootprint(std::string_view domain_uuid, std::string_view name,
                      const CpuSet& cpus) override;
    void release(std::string_view domain_uuid) override;
    void releaseVcpuOutside(std::string_view domain_uuid, unsigned vcpu,
                            const CpuSet& pinned) override;

    std::optional<std::uint32_t> currentFrequency(unsigned pcpu) const override;
    std::vector<std::uint32_t> availableFrequencies(unsigned pcpu) const override;  // ascending
    bool turboCapable(unsigned pcpu) const override;
    bool highPriority(unsigned pcpu) const override;
    std::optional<PowerDescription> describe(unsigned pcpu) const override;
    HeldRequest heldBy(const Requester& who, unsigned pcpu) const override;
    CpuSet hostCpus() const override { return host_cpus_; }
    std::string lastRefusal(std::string_view domain_uuid) const override;

    // Drops every hold and puts every file back as found (agent exit).
    // Returns false if some file could not be restored (logged).
    bool restoreAll();

    bool hasCpufreq() const { return backend_ != nullptr; }
    const CpufreqTopology& topology() const { return topology_; }
    Sysfs& sysfs() { return *sysfs_; }  // tests observe writes through it
    std::string_view driver() const;

  private:
    using HolderKey = std::pair<std::string, unsigned>;  // domain uuid, vcpu
    // Looks a hold up without copying the uuid (no allocation per request).
    using HolderView = std::pair<std::string_view, unsigned>;
    struct HolderLess {
        using is_transparent = void;
        template <typename A, typename B>
        bool operator()(const A& a, const B& b) const {
            return HolderView(a.first, a.second) < HolderView(b.first, b.second);
        }
    };
    using Names = std::set<std::string, std::less<>>;    // domain uuids
    struct Hold {
        std::optional<std::uint32_t> khz;
        std::optional<bool> turbo;
    };
    struct PolicyState {
        std::map<HolderKey, Hold, HolderLess> holds;
        std::multiset<std::uint32_t> levels;       // of the holds, for the highest
        std::optional<std::uint32_t> applied_khz;  // what we last wrote
        std::vector<std::uint32_t> steps;          // cached, ascending
        std::optional<std::size_t> knob;           // index into knobs_
        CpuSet host;                               // host CPUs among its CPUs
        Names stakeholders;
        std::map<std::string, unsigned, std::less<>> level_holders;  // uuid -> holds with a level
        Names silent;                                // stakeholders holding no level here
        std::optional<std::uint32_t> found_ceiling;  // set when journaled
        // prepare() ran since the last restore. Not the same as "journaled":
        // a group whose restore failed stays journaled (originals kept).
        bool prepared = false;
        std::string unusable;  // why the policy cannot be driven (steps empty then)
        // A write failed: the backend's usability check runs again before the
        // next request to it (only then: the request path checks nothing).
        bool recheck = false;
    };
    struct Wishes {
        unsigned on = 0, off = 0;
    };
    struct KnobState {
        TurboKnob knob;
        std::vector<std::size_t> policies;  // that share it
        bool host = false;                  // a host CPU is under it
        Names stakeholders;
        std::map<std::string, Wishes, std::less<>> wishes;  // by uuid
        Names silent;                                       // stakeholders holding no turbo wish
        unsigned on = 0, off = 0;
        std::optional<bool> applied;
        std::optional<bool> found_on;  // set when journaled
    };
    struct Footprint {
        std::string name;
        CpuSet cpus;
        std::vector<std::size_t> policies;  // ascending
    };

    // The policies of pcpus into `out` (cleared first); false with `why`.
    bool resolve(const CpuSet& pcpus, std::vector<std::size_t>& out, std::string& why) const;
    std::optional<std::uint32_t> chooseLevel(std::size_t policy, HolderView key, PowerAction action,
                                             const FrequencyLimits& limits, std::string& why) const;
    // Who keeps the policy (switch) from being slowed, counting `asking`
    // as holding a level (wishing off) too; nullopt: consent.
    std::optional<std::string> blocker(std::size_t policy, std::string_view asking) const;
    std::optional<std::string> knobBlocker(std::size_t knob, std::string_view asking) const;
    std::uint32_t foundCeiling(std::size_t policy) const;
    bool foundOn(std::size_t knob) const;
    std::string nameOf(std::string_view uuid) const;
    std::string refusalFor(std::size_t policy, const std::string& blocker) const;

    // Every hold change goes through here: it keeps the counts in step.
    void setHold(std::size_t policy, HolderView key, std::optional<Hold> hold);
    void setStake(std::size_t policy, const std::string& uuid, bool in);
    void setKnobStake(std::size_t knob, const std::string& uuid, bool in);
    void reconcile(std::size_t policy);
    void reconcileKnob(std::size_t knob);
    // Reconciles, logging failures instead of throwing (event paths).
    void reconcileQuietly(const std::set<std::size_t>& policies, const std::set<std::size_t>& knobs,
                          std::string_view what);
    std::optional<std::uint32_t> frequencyOf(std::size_t policy) const;
    PowerVerdict refuse(const Requester& who, std::string why, bool shared_hardware = false);

    std::unique_ptr<Sysfs> sysfs_;
    CpufreqTopology topology_;
    std::unique_ptr<CpufreqBackend> backend_;
    RestoreJournal journal_;
    CpuSet host_cpus_;
    std::vector<PolicyState> states_;  // by policy index
    std::vector<KnobState> knobs_;
    std::vector<std::size_t> global_knobs_;                     // indexes into knobs_
    std::vector<bool> high_priority_;                           // by policy index
    std::map<std::string, Footprint, std::less<>> footprints_;  // by uuid
    std::map<std::string, std::string, std::less<>> refusals_;  // last, by uuid
    // apply()'s plan, kept between requests so that planning allocates
    // nothing once they have grown (apply() never runs re-entrantly).
    std::vector<std::size_t> plan_policies_;
    std::vector<Hold> plan_holds_;
    std::vector<std::optional<Hold>> plan_before_;
};

}  // namespace vmpower
