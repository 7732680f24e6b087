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
// What no VM is given is the host's. The shares of one package never add
// up to more than its delta: when ticks exceed the capacity (tick rounding,
// a CPU counted in the wrong package), they are scaled down.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cpu_set.h"

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
    double energy_uj = 0;               // since watched
    std::vector<double> vcpu_uj;        // per vCPU, since watched
    double last_interval_uj = 0;        // in the last interval
    double power_w = 0;                 // last interval's energy / its length
    std::vector<double> package_share;  // of each package's last delta, 0..1
    double watched_s = 0;               // seconds of intervals counted
    // Continued from the state directory after the agent restarted: what
    // the VM used while the agent was down is not in energy_uj.
    bool gap = false;
};

// What a restarted agent had counted for a VM (state directory).
struct SavedVmEnergy {
    std::string instance;
    double energy_uj = 0;
    std::vector<double> vcpu_uj;
    double watched_s = 0;
};

class EnergyAccounting {
  public:
    EnergyAccounting(std::vector<EnergyPackage> packages, double ticks_per_second);

    // One sample, `elapsed_s` after the previous one. energy_uj[i] is
    // package i's counter (nullopt: unreadable now; that interval of the
    // package is attributed to nobody). The first sample only sets the
    // baselines; so does a VM's or thread's first appearance. A VM absent
    // from `vms` has stopped: it is forgotten, and its last partial
    // interval counts as the host's.
    void sample(double elapsed_s, std::span<const std::optional<std::uint64_t>> energy_uj,
                std::span<const VmSample> vms);

    // Carried over from before a restart: used when the VM first appears
    // with the same instance, then dropped.
    void restore(std::map<std::string, SavedVmEnergy, std::less<>> saved);
    std::map<std::string, SavedVmEnergy, std::less<>> save() const;

    const std::vector<EnergyPackage>& packages() const { return packages_; }
    const std::map<std::string, VmEnergy, std::less<>>& vms() const { return vms_; }
    const VmEnergy* vm(std::string_view uuid) const;
    // Since the first sample, per package: counted, and given to no VM.
    const std::vector<double>& packageEnergyUj() const { return package_total_uj_; }
    const std::vector<double>& hostEnergyUj() const { return host_uj_; }
    const std::vector<double>& lastPackageDeltaUj() const { return last_delta_uj_; }
    double lastIntervalS() const { return last_interval_s_; }

    // Energy between two readings of a counter that wraps to 0 after
    // max_range (one wrap at most per interval).
    static std::uint64_t counterDelta(std::uint64_t before, std::uint64_t after,
                                      std::uint64_t max_range);

  private:
    struct ThreadBaseline {
        std::uint64_t cpu_ticks = 0;
    };
    struct VmState {
        std::map<pid_t, ThreadBaseline> threads;
    };
    // Each package's energy in one interval; nullopt: not attributable.
    using PackageDeltas = std::vector<std::optional<double>>;
    struct Interval;  // one sample's thread use and shares (energy_accounting.cpp)

    std::optional<std::size_t> packageOf(unsigned cpu) const;
    VmEnergy& vmEntry(const VmSample& s, bool& fresh);
    // The steps of sample(), in order.
    PackageDeltas readCounters(double elapsed_s,
                               std::span<const std::optional<std::uint64_t>> energy_uj);
    Interval measureThreads(std::span<const VmSample> vms, const PackageDeltas& delta, bool first);
    void measureVmThreads(std::size_t v, const VmSample& s, bool baseline_only,
                          const PackageDeltas& delta, Interval& interval);
    void forgetStoppedVms(std::span<const VmSample> vms);
    void attributeToVms(Interval& interval, const PackageDeltas& delta, double elapsed_s);
    void closeVmIntervals(const Interval& interval, double elapsed_s, bool first);
    void carryRemainders(const PackageDeltas& delta, const std::vector<double>& attributed);

    std::vector<EnergyPackage> packages_;
    double ticks_per_second_;
    std::vector<std::int32_t> package_of_cpu_;  // -1: in no package
    std::vector<std::optional<std::uint64_t>> last_reading_;
    bool sampled_ = false;
    std::map<std::string, VmEnergy, std::less<>> vms_;
    std::map<std::string, VmState, std::less<>> state_;
    std::map<std::string, SavedVmEnergy, std::less<>> saved_;
    std::vector<double> package_total_uj_, host_uj_, last_delta_uj_;
    double last_interval_s_ = 0;
};

}  // namespace vmpower
