#pragma once
// Samples the package counters and every running VM's QEMU threads once per
// interval (the Agent calls sample() from an EventLoop timer: no thread, no
// polling loop), feeds EnergyAccounting, and keeps each VM's reading ready
// for the request path (EnergySource: one hash lookup, nothing read then).
// Work per sample: one energy_uj read per package, and per running VM its
// pid file and one stat file per QEMU thread.

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "clock.h"
#include "energy_accounting.h"
#include "energy_source.h"
#include "guest_energy.h"
#include "powercap.h"

namespace vmpower {

struct EnergySettings {
    std::filesystem::path sysfs_root = "/sys";
    std::filesystem::path proc_root = "/proc";
    std::filesystem::path qemu_pid_dir = "/run/libvirt/qemu";
    // Where the counts survive a restart; empty: they do not.
    std::filesystem::path state_file;
    std::chrono::milliseconds interval{1000};
    // How long a guest's own reading stays the same (GuestEnergyGate).
    std::chrono::milliseconds guest_period{10000};
    // Who is given the energy no VM ran for (agent.energy_idle).
    EnergyIdle idle = EnergyIdle::Host;
    // Samples between two saves of the state file (and one at exit).
    unsigned save_every = 10;
};

// A running domain as the sampler needs it (the registry's view).
struct WatchedDomain {
    std::string uuid;
    std::string name;
    std::size_t vcpu_count = 0;
};

class EnergySampler final : public EnergySource {
  public:
    // Scans the powercap tree and reads the state file; never throws for
    // what it finds there (no tree: unavailable, a bad state file: ignored
    // with a warning).
    EnergySampler(EnergySettings settings, const Clock& clock);
    ~EnergySampler() override;

    bool available() const { return accounting_ != nullptr; }
    const std::string& unavailableReason() const { return unavailable_; }
    const EnergySettings& settings() const { return settings_; }
    const EnergyAccounting* accounting() const { return accounting_.get(); }
    // Why a VM's threads could not be read at the last sample, by UUID.
    const std::unordered_map<std::string, std::string>& vmProblems() const { return problems_; }
    std::uint64_t samples() const { return samples_; }

    // One sample of these domains. Never throws (a loop callback).
    void sample(std::span<const WatchedDomain> domains) noexcept;
    // Writes the state file now (also every save_every samples, and when
    // destroyed). Never throws; false when it could not.
    bool save() const noexcept;

    std::optional<VmEnergyReading> reading(std::string_view uuid) const override;
    std::optional<VmEnergyReading> guestReading(std::string_view uuid) const override;

  private:
    VmSample readVm(const WatchedDomain& d);
    void publish();
    void load();

    EnergySettings settings_;
    const Clock& clock_;
    std::string unavailable_;
    std::unique_ptr<EnergyAccounting> accounting_;
    std::vector<RaplPackage> packages_;
    std::optional<Clock::TimePoint> last_sample_;
    std::uint64_t samples_ = 0;
    std::unordered_map<std::string, VmEnergyReading> readings_;
    GuestEnergyGate guest_;
    std::unordered_map<std::string, std::string> problems_;
};

}  // namespace vmpower
