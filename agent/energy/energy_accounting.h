#pragma once
// Per-VM energy from package counters and QEMU threads' CPU time: pure
// arithmetic, no I/O (the EnergySampler feeds it). QEMU's published method
// (its rapl-msr document), done by the agent for every VM:
//
//   a thread's share of package p in an interval
//       = its CPU ticks on p / (p's online CPUs x interval x ticks per second)
//         x p's energy delta
//
// A thread counts for the package of the CPU it last ran on. QEMU's own
// threads' share (I/O, main loop) is split equally among the VM's vCPUs.
// What no VM is given is the host's, or with agent.energy_idle: vcpus the
// VMs' by their vCPU threads on the package. The shares of one package never
// add up to more than its delta: when ticks exceed the capacity (tick
// rounding, a CPU counted in the wrong package), they are scaled down.
//
// All in whole µJ (energy_ledger.h): per package and interval the VMs' parts
// and the host's add up to the counter's delta exactly, and a VM's vCPUs add
// up to the VM.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cpu_set.h"
#include "energy_idle.h"
#include "energy_ledger.h"

namespace vmpower {

struct EnergyPackage {
    std::string name;  // "package-0"
    std::uint64_t max_energy_range_uj = 0;
    CpuSet cpus;  // online CPUs: the capacity
};

struct ThreadSample {
    pid_t tid = 0;
    std::optional<unsigned> vcpu;  // nullopt: one of QEMU's own threads
    std::uint64_t cpu_ticks = 0;   // utime + stime, cumulative
    unsigned processor = 0;        // the CPU it last ran on
};

// One VM at one sample. `instance` tells one run of a VM from the next (its
// QEMU pid and start time): a changed instance starts the count again.
struct VmSample {
    std::string uuid;
    std::string name;
    std::string instance;
    std::size_t vcpu_count = 0;
    bool threads_read = true;  // false: /proc could not be read this time
    std::vector<ThreadSample> threads;
};

struct VmEnergy {
    std::string name;
    std::string instance;
    std::uint64_t energy_uj = 0;         // since watched: what it ran for, and idle
    std::uint64_t idle_uj = 0;           // of which idle energy (agent.energy_idle: vcpus)
    std::vector<std::uint64_t> vcpu_uj;  // per vCPU, since watched; they add up to energy_uj
    std::uint64_t last_interval_uj = 0;  // in the last interval
    std::vector<std::uint64_t> package_last_uj;  // per package, in the last interval
    double power_w = 0;                          // last interval's energy / its length
    std::vector<double> package_share;           // of each package's last delta, 0..1
    double watched_s = 0;                        // seconds of intervals counted
    // Continued from the state directory after the agent restarted: what
    // the VM used while the agent was down is not in energy_uj.
    bool gap = false;
};

// What a restarted agent had counted for a VM (state directory).
struct SavedVmEnergy {
    std::string instance;
    std::uint64_t energy_uj = 0;
    std::uint64_t idle_uj = 0;
    std::vector<std::uint64_t> vcpu_uj;
    double watched_s = 0;
};

// A package's ledger since the counts began (energy == host + vms).
struct SavedPackageEnergy {
    std::string name;
    std::uint64_t energy_uj = 0;
    std::uint64_t host_uj = 0;
    std::uint64_t vms_uj = 0;
    std::uint64_t idle_uj = 0;  // of vms_uj: idle energy given to VMs
};

struct SavedEnergy {
    std::map<std::string, SavedVmEnergy, std::less<>> vms;
    std::vector<SavedPackageEnergy> packages;  // empty: a state file from before
};

class EnergyAccounting {
  public:
    EnergyAccounting(std::vector<EnergyPackage> packages, double ticks_per_second,
                     EnergyIdle idle = EnergyIdle::Host);

    // One sample, `elapsed_s` after the previous one. energy_uj[i] is
    // package i's counter (nullopt: unreadable now; that interval of the
    // package is attributed to nobody). The first sample only sets the
    // baselines; so does a VM's or thread's first appearance. A VM absent
    // from `vms` has stopped: it is forgotten, and its last partial
    // interval counts as the host's.
    void sample(double elapsed_s, std::span<const std::optional<std::uint64_t>> energy_uj,
                std::span<const VmSample> vms);

    // Carried over from before a restart: a VM's counts are used when it
    // first appears with the same instance, then dropped; the packages'
    // totals continue when the packages are the same (by name, in order).
    // Before the first sample.
    void restore(SavedEnergy saved);
    SavedEnergy save() const;

    const std::vector<EnergyPackage>& packages() const { return packages_; }
    const std::map<std::string, VmEnergy, std::less<>>& vms() const { return vms_; }
    const VmEnergy* vm(std::string_view uuid) const;
    EnergyIdle idle() const { return idle_; }
    // Since the counts began, per package: counted, given to no VM, given to
    // VMs (those stopped since included), and of that the idle part. Always
    // packageEnergyUj == hostEnergyUj + vmsEnergyUj, to the µJ.
    const std::vector<std::uint64_t>& packageEnergyUj() const { return package_total_uj_; }
    const std::vector<std::uint64_t>& hostEnergyUj() const { return host_uj_; }
    const std::vector<std::uint64_t>& vmsEnergyUj() const { return vms_uj_; }
    const std::vector<std::uint64_t>& idleEnergyUj() const { return idle_uj_; }
    // The last interval, per package: the delta, and the host's part of it.
    const std::vector<std::uint64_t>& lastPackageDeltaUj() const { return last_delta_uj_; }
    const std::vector<std::uint64_t>& lastHostUj() const { return last_host_uj_; }
    double lastIntervalS() const { return last_interval_s_; }

    // Energy between two readings of a counter that wraps to 0 after
    // max_range (one wrap at most per interval).
    static std::uint64_t counterDelta(std::uint64_t before, std::uint64_t after,
                                      std::uint64_t max_range);

  private:
    struct VmState {
        std::map<pid_t, std::uint64_t> thread_ticks;  // baselines
        std::vector<ShareCarry> carry;                // per package
    };
    // Each package's energy in one interval; nullopt: not attributable.
    using PackageDeltas = std::vector<std::optional<std::uint64_t>>;
    struct Interval;  // one sample's thread use per VM and package (.cpp)

    std::optional<std::size_t> packageOf(unsigned cpu) const;
    VmEnergy& vmEntry(const VmSample& s, bool& fresh);
    // The steps of sample(), in order.
    PackageDeltas readCounters(double elapsed_s,
                               std::span<const std::optional<std::uint64_t>> energy_uj);
    Interval measureThreads(std::span<const VmSample> vms, const PackageDeltas& delta, bool first);
    void measureVmThreads(std::size_t v, const VmSample& s, bool baseline_only,
                          const PackageDeltas& delta, Interval& interval);
    void forgetStoppedVms(std::span<const VmSample> vms);
    void payPackages(Interval& interval, const PackageDeltas& delta, double elapsed_s);
    void closeVmIntervals(const Interval& interval, const PackageDeltas& delta, double elapsed_s,
                          bool first);

    std::vector<EnergyPackage> packages_;
    double ticks_per_second_;
    EnergyIdle idle_;
    std::vector<std::int32_t> package_of_cpu_;  // -1: in no package
    std::vector<std::optional<std::uint64_t>> last_reading_;
    bool sampled_ = false;
    std::map<std::string, VmEnergy, std::less<>> vms_;
    std::map<std::string, VmState, std::less<>> state_;
    std::map<std::string, SavedVmEnergy, std::less<>> saved_;
    std::vector<std::uint64_t> package_total_uj_, host_uj_, vms_uj_, idle_uj_;
    std::vector<std::uint64_t> last_delta_uj_, last_host_uj_;
    double last_interval_s_ = 0;
};

}  // namespace vmpower
