#pragma once
// A simulated host for the energy ledger's property test and fuzz target:
// packages whose counters move and wrap (or cannot be read), VMs that start,
// stop and restart, QEMU threads that run and move between CPUs, and agent
// restarts through save()/restore(). After each sample it checks the
// ledger's identities (docs/energy.md "The method"):
//
//   per package and interval: Σ VMs' parts + the host's part == the delta
//   per package, cumulative: total == host + VMs, and total == Σ deltas
//   per VM: energy == Σ vCPUs (it has vCPUs), and it grew by its interval
//
// The numbers come from `draw`: a seeded generator in the test, the input's
// bytes in the fuzz target.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "energy_accounting.h"

namespace vmpower {

class LedgerWorld {
  public:
    // draw(n): a number below n (n ≥ 1).
    using Draw = std::function<std::uint64_t(std::uint64_t)>;
    LedgerWorld(Draw draw, EnergyIdle idle);

    // One step of the world and one sample; what does not add up, or "".
    std::string step();
    const EnergyAccounting& accounting() const { return *accounting_; }
    std::uint64_t restarts() const { return restarts_; }
    std::uint64_t wraps() const { return wraps_; }

  private:
    struct Thread {
        pid_t tid = 0;
        std::optional<unsigned> vcpu;
        std::uint64_t ticks = 0;
        unsigned cpu = 0;
    };
    struct Vm {
        std::string uuid;
        std::string instance;
        std::size_t vcpus = 0;
        bool read = true;
        std::vector<Thread> threads;
    };
    struct Seen {  // a VM at the last sample
        std::string instance;
        std::uint64_t energy_uj = 0;
    };

    bool chance(std::uint64_t one_in) { return draw_(one_in) == 0; }
    void restartAgent();
    void changeVms();
    Vm newVm(std::string uuid);
    void runThreads(double elapsed_s);
    std::vector<std::optional<std::uint64_t>> moveCounters(double elapsed_s);
    std::vector<VmSample> vmSamples() const;
    std::string check(const std::vector<std::optional<std::uint64_t>>& delta) const;
    std::string checkVms() const;
    std::string checkIdle(const std::vector<std::optional<std::uint64_t>>& delta) const;
    void remember();

    Draw draw_;
    EnergyIdle idle_;
    std::vector<EnergyPackage> packages_;
    unsigned cpus_ = 0;
    std::unique_ptr<EnergyAccounting> accounting_;
    std::vector<std::uint64_t> counter_;                   // the hardware's
    std::vector<std::optional<std::uint64_t>> last_seen_;  // the agent's last reading
    bool sampled_ = false;                                 // in this run of the agent
    std::vector<std::uint64_t> expected_total_, vms_before_;
    std::map<std::string, Vm> vms_;
    std::map<std::string, Seen> seen_;
    pid_t next_tid_ = 100;
    std::uint64_t runs_ = 0, restarts_ = 0, wraps_ = 0;
};

}  // namespace vmpower
