#pragma once
// The Arbiter's writing side: puts each cpufreq domain and turbo switch in
// the state the arbiter decided, through the backend, journaling the files
// before the first write and restoring them byte for byte when nobody holds
// them any more (or the holds are not in force). Also what the hardware is:
// each domain's frequency steps, usability, turbo switch and priority,
// checked once at start (re-checking them per request cost most of a
// request's instructions, bench/README.md).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cpufreq_backend.h"
#include "restore_journal.h"
#include "stakeholders.h"
#include "sysfs.h"
#include "topology.h"

namespace vmpower {

class FrequencyWriter {
  public:
    // `backend` null: the machine has no cpufreq; nothing is driven.
    FrequencyWriter(std::unique_ptr<Sysfs> sysfs, CpufreqTopology topology,
                    std::unique_ptr<CpufreqBackend> backend,
                    const std::filesystem::path& journal_file, std::string boot_id);

    bool drives() const { return backend_ != nullptr; }
    std::string_view driver() const;
    const CpufreqTopology& topology() const { return topology_; }
    Sysfs& sysfs() { return *sysfs_; }
    const Sysfs& sysfs() const { return *sysfs_; }

    // The hardware, as found at start.
    const std::vector<std::uint32_t>& steps(CpufreqDomain d) const;  // ascending; empty: unusable
    const std::string& unusable(CpufreqDomain d) const { return domains_[indexOf(d)].unusable; }
    bool highPriority(CpufreqDomain d) const { return domains_[indexOf(d)].high_priority; }
    std::optional<TurboSwitch> switchOf(CpufreqDomain d) const { return switch_of_[indexOf(d)]; }
    const std::vector<std::optional<TurboSwitch>>& switchOfEach() const { return switch_of_; }
    const TurboKnob& knob(TurboSwitch s) const { return switches_[indexOf(s)].knob; }
    // Each switch's kind and domains, for the stakeholders.
    std::vector<Stakeholders::Switch> switchLayout() const;

    // What the domain runs at: what we last wrote, else the live value.
    std::optional<std::uint32_t> frequencyOf(CpufreqDomain d) const;
    std::optional<std::uint32_t> applied(CpufreqDomain d) const;
    std::optional<bool> applied(TurboSwitch s) const { return switches_[indexOf(s)].applied; }
    // What was found before our first write (the live value until then).
    std::uint32_t foundCeiling(CpufreqDomain d) const;
    bool foundOn(TurboSwitch s) const;

    // A write to the domain failed: check it again before its next request.
    void recheck(CpufreqDomain d) { domains_[indexOf(d)].recheck = true; }
    // Runs that check if one is due: refused with why the domain is not
    // usable.
    Verdict checkAgain(CpufreqDomain d);

    // Runs the domain at `target`, or as found when `target` is nullopt or
    // `blocked` names who keeps the holds from being in force (logged).
    // Throws on a failed write.
    void write(CpufreqDomain d, std::optional<std::uint32_t> target,
               const std::optional<std::string>& blocked);
    // Turns the switch on/off, or back to as found (nullopt).
    void write(TurboSwitch s, std::optional<bool> want);
    // Puts every file back as found. False if some could not be (logged).
    bool restoreAll();

  private:
    struct DomainState {
        std::vector<std::uint32_t> steps;            // cached, ascending
        std::string unusable;                        // why it cannot be driven (steps empty then)
        bool high_priority = false;                  // SST-BF
        std::optional<std::uint32_t> applied_khz;    // what we last wrote
        std::optional<std::uint32_t> found_ceiling;  // set when journaled
        // prepare() ran since the last restore. Not the same as "journaled":
        // a group whose restore failed stays journaled (originals kept).
        bool prepared = false;
        // A write failed: the backend's usability check runs again before
        // the next request to it (only then: the request path checks nothing).
        bool recheck = false;
    };
    struct SwitchState {
        TurboKnob knob;
        std::vector<CpufreqDomain> domains;  // that share it
        std::optional<bool> applied;
        std::optional<bool> found_on;  // set when journaled
    };

    void survey();  // fills domains_ and switches_ from the backend

    std::unique_ptr<Sysfs> sysfs_;
    CpufreqTopology topology_;
    std::unique_ptr<CpufreqBackend> backend_;
    RestoreJournal journal_;
    std::vector<DomainState> domains_;
    std::vector<std::optional<TurboSwitch>> switch_of_;  // by domain index
    std::vector<SwitchState> switches_;
};

}  // namespace vmpower
