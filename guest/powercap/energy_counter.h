#pragma once
// Turns the host's energy readings into the guest's own counters, which
// only ever grow (as a RAPL counter does between wraps). The host's count
// can start again (its agent restarted without keeping it, or the VM
// migrated to another host): then the new reading counts whole, since the
// new count began after our last reading. Pure arithmetic, no I/O.

#include <cstdint>
#include <optional>

#include "vmpower/protocol.h"

namespace vmpower::guest {

// One host reading, in µJ since the host began watching this run of the VM.
struct HostCount {
    std::uint64_t energy_uj = 0;   // the whole VM
    std::uint64_t core_uj = 0;     // its vCPUs' part
    std::uint64_t watched_ms = 0;  // how long the host has watched it
    bool operator==(const HostCount&) const = default;
};

// The reply's numbers; core: the sum of vcpu_energy_uj when the reply
// holds every vCPU (num_vcpu <= 48), else the whole VM's energy.
HostCount hostCountOf(const vmpower_energy& reply);

// The guest's counters: package-0 and its core subzone.
struct GuestCount {
    std::uint64_t package_uj = 0;
    std::uint64_t core_uj = 0;
    bool operator==(const GuestCount&) const = default;
};

// What one reading changed, for the daemon's log (one line per event).
struct CountEvents {
    bool first = false;                // the first reading with nothing to compare to
    bool new_host_count = false;       // the host's count started again
    bool unavailable = false;          // the host stopped measuring (reported once)
    bool available = false;            // ... and measures again
    std::uint64_t continued_from = 0;  // package_uj before a new host count was added
};

class EnergyCounter {
  public:
    // Continues from `start`; `last`: the host reading `start` already
    // includes (nullopt: none, the next reading counts whole).
    explicit EnergyCounter(GuestCount start = {}, std::optional<HostCount> last = std::nullopt)
        : count_(start), last_(last) {}

    // A reading; nullopt: the host measures no energy now (no change).
    CountEvents add(const std::optional<HostCount>& reading);

    const GuestCount& count() const { return count_; }
    const std::optional<HostCount>& last() const { return last_; }

  private:
    GuestCount count_;
    std::optional<HostCount> last_;
    bool unavailable_ = false;
};

}  // namespace vmpower::guest
