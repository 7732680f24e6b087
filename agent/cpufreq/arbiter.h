#pragma once
// Arbitrates guests' frequency requests over the kernel's cpufreq policy
// domains and drives the backend.
//
// Each requester (domain uuid + vCPU) holds at most one level per policy
// domain. The policy runs at the highest level anyone holds, so a VM never
// slows a neighbour below what the neighbour asked for. ScaleUp/ScaleDown
// move the requester's own level one step from its held level (or from the
// current frequency when it holds none); Max/Min go to the ends; the
// requester's FrequencyLimits bound the steps it may choose.
//
// Turbo: each requester may also hold an on/off wish. A turbo switch is on
// if any requester sharing it wants it on, off if some want it off and
// none on, and back to its original value when nobody has a wish. Global
// switches (intel_pstate/no_turbo, cpufreq/boost) are shared by every
// policy on the machine.
//
// Before the first write to a policy or switch its files are journaled;
// they are restored byte for byte when nobody holds them any more, on
// restoreAll() and on destruction.
//
// Not thread safe: the agent's one loop calls it.

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
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
    Arbiter(std::unique_ptr<Sysfs> sysfs, CpufreqTopology topology,
            std::unique_ptr<CpufreqBackend> backend, const std::filesystem::path& journal_file);
    ~Arbiter() override;  // restoreAll()
    Arbiter(const Arbiter&) = delete;
    Arbiter& operator=(const Arbiter&) = delete;

    bool apply(const Requester& who, const CpuSet& pcpus, PowerAction action,
               const FrequencyLimits& limits) override;
    void release(std::string_view domain_uuid) override;
    void releaseVcpuOutside(std::string_view domain_uuid, unsigned vcpu,
                            const CpuSet& pinned) override;

    std::optional<std::uint32_t> currentFrequency(unsigned pcpu) const override;
    std::vector<std::uint32_t> availableFrequencies(unsigned pcpu) const override;  // ascending
    bool turboCapable(unsigned pcpu) const override;
    bool highPriority(unsigned pcpu) const override;

    // Drops every hold and puts every file back as found (agent exit).
    // Returns false if some file could not be restored (logged).
    bool restoreAll();

    bool hasCpufreq() const { return backend_ != nullptr; }
    const CpufreqTopology& topology() const { return topology_; }
    Sysfs& sysfs() { return *sysfs_; }  // tests observe writes through it
    std::string_view driver() const;

  private:
    using HolderKey = std::pair<std::string, unsigned>;  // domain uuid, vcpu
    struct Hold {
        std::optional<std::uint32_t> khz;
        std::optional<bool> turbo;
    };
    struct PolicyState {
        std::map<HolderKey, Hold> holds;
        std::optional<std::uint32_t> applied_khz;  // what we last wrote
        std::vector<std::uint32_t> steps;          // cached, ascending
        std::optional<TurboKnob> knob;
    };
    struct KnobState {
        std::optional<bool> applied;
    };

    std::optional<std::vector<std::size_t>> resolve(const CpuSet& pcpus) const;
    std::optional<std::uint32_t> chooseLevel(std::size_t policy, const HolderKey& key,
                                             PowerAction action,
                                             const FrequencyLimits& limits) const;
    void reconcile(std::size_t policy);
    void reconcileKnobs();
    // Drops the holds `drop` selects in the policies `in_policy` selects,
    // then re-applies what is left (restoring policies nobody holds).
    template <typename HoldPred, typename PolicyPred>
    void releaseWhere(std::string_view what, HoldPred drop, PolicyPred in_policy);
    std::optional<std::uint32_t> frequencyOf(std::size_t policy) const;

    std::unique_ptr<Sysfs> sysfs_;
    CpufreqTopology topology_;
    std::unique_ptr<CpufreqBackend> backend_;
    RestoreJournal journal_;
    std::vector<PolicyState> states_;         // by policy index
    std::map<std::string, KnobState> knobs_;  // by knob file
    std::vector<bool> high_priority_;         // by policy index
};

}  // namespace vmpower
