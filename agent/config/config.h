#pragma once
// The agent's configuration file (config/vmpower.yaml): agent settings and
// the policy of which VMs may scale which host CPUs.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "access_rules.h"
#include "energy_idle.h"

namespace vmpower {

// Thrown for an unreadable or invalid file. what() starts with
// "FILE:LINE:COLUMN: " so an operator can go straight to the mistake.
class ConfigError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct AgentSettings {
    std::filesystem::path sysfs_root = "/sys";
    std::filesystem::path state_dir = "/var/lib/vmpower";
    std::filesystem::path control_socket = "/run/vmpower/vmpowerd.sock";
    std::string cpufreq_driver;       // "" = read scaling_driver
    std::uint32_t step_khz = 0;       // 0 = use the available-frequency list
    bool verify_channel_peer = true;  // SO_PEERCRED must be the domain's QEMU
    std::filesystem::path qemu_pid_dir = "/run/libvirt/qemu";
    std::filesystem::path proc_root = "/proc";  // QEMU threads' CPU time (energy)
    // How often package energy and QEMU threads are sampled (docs/energy.md).
    std::chrono::milliseconds energy_interval{1000};
    // How long a guest's own energy reading stays the same: no finer a view
    // of the package's power than this (docs/energy.md).
    std::chrono::milliseconds energy_guest_period{10000};
    // Who is given the energy no VM ran for: the host, or the VMs by their
    // vCPUs (docs/energy.md "Idle energy").
    EnergyIdle energy_idle = EnergyIdle::Host;
    std::size_t reply_queue_records = 64;  // per channel, oldest dropped first
    std::string log_level = "info";
    // Groups whose members may use the control socket besides root: every
    // command / only the read-only ones. Names resolved when the file is read.
    std::optional<gid_t> control_operator_gid;
    std::optional<gid_t> control_reader_gid;
    // The CPUs the host keeps for itself: they are stakeholders of the
    // hardware they share with VMs, and never ask. nullopt: every CPU not in
    // <sysfs_root>/devices/system/cpu/isolated when it lists any, else none
    // (the host then a stakeholder of each host-wide turbo switch).
    std::optional<CpuSet> host_cpus;
    // Prometheus metrics written for node_exporter's textfile collector
    // every metrics_interval; empty: not written (vmpowerctl metrics still
    // answers).
    std::filesystem::path metrics_textfile;
    std::chrono::seconds metrics_interval{15};
};

struct Config {
    AgentSettings agent;
    std::shared_ptr<const AccessRules> rules;
};

Config loadConfig(const std::filesystem::path& file);              // throws ConfigError
Config parseConfig(std::string_view yaml, std::string_view name);  // name is used in errors

}  // namespace vmpower
