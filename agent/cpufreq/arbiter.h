#pragma once
// Arbitrates guests' frequency requests over the kernel's cpufreq policy
// domains and drives the backend, under one invariant (docs/architecture.md,
// "Shared hardware"): a guest never slows hardware that anyone else runs on,
// unless they asked for it too.
//
// Holds. Each requester (a VM's vCPU, PHYSICAL request or host policy, or
// the operator: Requester) holds at most one level and one turbo wish per
// cpufreq domain (the kernel's policy: CpufreqDomain). ScaleUp/ScaleDown move the requester's own
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
// it and no host CPU is in it, or when the operator
// (Requester::operatorOverride) holds a level on it. A switch has it when every stakeholder holds a
// turbo wish (on or off) and the host is none of them, or when the operator wishes it off. Holding
// anything is consent because the highest hold wins: a stakeholder that holds max (or turbo on) is
// not slowed by the others' lower holds. (Were only "off" wishes consent, two VMs on one global
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
// The operator's precedence. While the operator (set-cpu-freq) holds a level
// on a policy, the policy runs at the operator's level, whatever else is held
// there, and every other requester's level request there is refused ("held
// by the operator"); the same for a turbo wish on a switch. The holds of
// others are kept and take effect again when the operator releases its hold
// (releaseHolder(Requester::operatorOverride(cpu))).
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
// The parts, one concern each: HoldBook (who holds what, the highest level),
// Stakeholders (footprints, consent, who blocks) and FrequencyWriter
// (reconciling the files through the journal and the backend). The Arbiter
// decides: apply() plans every domain's new hold, then commits them.
//
// Not thread safe: the agent's one loop calls it.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cpufreq_backend.h"
#include "frequency_writer.h"
#include "hold_book.h"
#include "power_control.h"
#include "stakeholders.h"
#include "sysfs.h"
#include "topology.h"

namespace vmpower {

class Arbiter final : public PowerControl {
  public:
    // `backend` null: the machine has no cpufreq; every apply() is refused.
    // `host_cpus`: the CPUs the host keeps for itself (stakeholders that
    // never ask). `host_everywhere`: the host's own tasks may run on every
    // CPU (nothing isolated, agent.host_cpus unset), which makes the host a
    // stakeholder of each host-wide turbo switch (docs/policy.md).
    Arbiter(std::unique_ptr<Sysfs> sysfs, CpufreqTopology topology,
            std::unique_ptr<CpufreqBackend> backend, const std::filesystem::path& journal_file,
            CpuSet host_cpus = {}, std::string boot_id = {}, bool host_everywhere = false);
    ~Arbiter() override;  // restoreAll()
    Arbiter(const Arbiter&) = delete;
    Arbiter& operator=(const Arbiter&) = delete;

    PowerVerdict apply(const Requester& who, const CpuSet& pcpus, PowerAction action,
                       const FrequencyLimits& limits) override;
    void setFootprint(std::string_view domain_uuid, std::string_view name,
                      const CpuSet& cpus) override;
    void release(std::string_view domain_uuid) override;
    void releaseOutside(const Requester& who, const CpuSet& pinned) override;
    void releaseHolder(const Requester& who) override;

    std::optional<std::uint32_t> currentFrequency(unsigned pcpu) const override;
    std::span<const std::uint32_t> availableFrequencies(unsigned pcpu) const override;
    bool turboCapable(unsigned pcpu) const override;
    bool highPriority(unsigned pcpu) const override;
    std::optional<PowerDescription> describe(unsigned pcpu) const override;
    HeldRequest heldBy(const Requester& who, unsigned pcpu) const override;
    CpuSet hostCpus() const override { return host_cpus_; }
    std::string lastRefusal(std::string_view domain_uuid) const override;

    // Drops every hold and puts every file back as found (agent exit).
    // Returns false if some file could not be restored (logged).
    bool restoreAll();

    bool hasCpufreq() const { return writer_.drives(); }
    const CpufreqTopology& topology() const { return writer_.topology(); }
    Sysfs& sysfs() { return writer_.sysfs(); }  // tests observe writes through it
    std::string_view driver() const { return writer_.driver(); }

  private:
    using Hold = HoldBook::Hold;
    using Touched = Stakeholders::Touched;

    // The domains of pcpus into `out` (cleared first: a member reused, no
    // allocation per request), or refused with why.
    Verdict resolve(const CpuSet& pcpus, std::vector<CpufreqDomain>& out) const;
    Checked<std::uint32_t> chooseLevel(CpufreqDomain d, const Requester& who, PowerAction action,
                                       const FrequencyLimits& limits) const;
    std::string refusalFor(CpufreqDomain d, const std::string& blocker) const;
    // apply()'s halves: every domain's new hold into plan_holds_ (or why
    // not), then the holds set and written, undone on a failed write.
    std::optional<PowerVerdict> plan(const Requester& who, PowerAction action,
                                     const FrequencyLimits& limits);
    std::optional<PowerVerdict> commit(const Requester& who, PowerAction action);
    // The running VMs on what the plan wrote (told to the operator).
    std::vector<std::string> affected() const;

    // Every hold change goes through here: the book and the stakeholders'
    // silent sets in step.
    void setHold(CpufreqDomain d, const Requester& who, std::optional<Hold> hold);
    // Drops `who`'s holds on the domains `drop` selects, reconciling them.
    template <typename Pred>
    void dropHolds(const Requester& who, Pred drop);
    void reconcile(CpufreqDomain d);
    void reconcile(TurboSwitch s);
    // Reconciles, logging failures instead of throwing (event paths).
    void reconcileQuietly(const Touched& touched, std::string_view what);
    PowerVerdict refuse(const Requester& who, std::string why, bool shared_hardware = false);
    // Refused when the operator holds `d`'s level (or, for `turbo`, its
    // switch) and `who` is not the operator; nullopt: not held.
    std::optional<PowerVerdict> heldByOperator(const Requester& who, CpufreqDomain d, bool turbo);

    FrequencyWriter writer_;
    HoldBook holds_;
    CpuSet host_cpus_;
    Stakeholders stakeholders_;
    std::map<std::string, std::string, std::less<>> refusals_;  // last, by VM uuid
    // apply()'s plan, kept between requests so that planning allocates
    // nothing once they have grown (apply() never runs re-entrantly).
    std::vector<CpufreqDomain> plan_domains_;
    std::vector<Hold> plan_holds_;
    std::vector<std::optional<Hold>> plan_before_;
    std::set<TurboSwitch> plan_switches_;
};

}  // namespace vmpower
