#include "make_arbiter.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cpufreq_error.h"
#include "log.h"
#include "min_max_backend.h"
#include "other_writers.h"
#include "restore_journal.h"
#include "userspace_backend.h"

namespace vmpower {

namespace fs = std::filesystem;

namespace {

std::string treeDriver(const Sysfs& sysfs, const CpufreqTopology& topology) {
    std::string driver;
    for (const auto& p : topology.policies()) {
        std::string d = sysfs.read(p.file("scaling_driver"));
        if (driver.empty()) driver = d;
        if (d != driver) {
            throw CpufreqError(
                fmt::format("{}: driver '{}' differs from '{}' of the other policies",
                            sysfs.path(p.file("scaling_driver")).string(), d, driver));
        }
    }
    return driver;
}

// Every CPU the tree knows: online, and every policy's.
CpuSet allCpus(const Sysfs& sysfs, const CpufreqTopology& topology) {
    CpuSet all;
    if (auto online = CpuSet::parse(sysfs.tryRead("devices/system/cpu/online").value_or(""))) {
        all = *online;
    }
    for (const auto& p : topology.policies()) all |= p.cpus;
    return all;
}

// Where the host's own tasks run when the operator did not say.
struct HostDefault {
    CpuSet cpus;              // the host's own CPUs (per-policy stakeholders)
    bool everywhere = false;  // nothing isolated: the host may run on every CPU
};

// With CPUs isolated (isolcpus=, the usual DPDK set-up) every CPU that is
// not is the host's. Without any, the host's tasks may run on every CPU: it
// is then a stakeholder of each host-wide turbo switch, but not of each
// policy, since no CPU of such a host could ever be slowed
// (docs/policy.md, "host_cpus default"); its operator lists the host's
// CPUs in agent.host_cpus to protect them.
HostDefault defaultHost(const Sysfs& sysfs, const CpufreqTopology& topology) {
    auto isolated = CpuSet::parse(sysfs.tryRead("devices/system/cpu/isolated").value_or(""));
    if (!isolated || isolated->empty()) return {{}, true};
    CpuSet host;
    for (unsigned cpu : allCpus(sysfs, topology).cpus()) {
        if (!isolated->contains(cpu)) host.add(cpu);
    }
    return {host, false};
}

// The one start-up warning of a host that isolates nothing and did not say
// which CPUs are its own.
void warnHostEverywhere(const Sysfs& sysfs, const CpufreqTopology& topology) {
    LOG(Cpufreq).warn(
        "cpufreq: no CPU is isolated and agent.host_cpus is unset: the host's own tasks may run on "
        "every CPU ({}), so the host is a stakeholder of the host-wide turbo switch (no VM may "
        "turn it off) but not of any single policy (a VM alone on a policy may slow it); list the "
        "host's CPUs in agent.host_cpus (e.g. host_cpus: 0-1) or isolate the VMs' CPUs "
        "(isolcpus=) to protect them, or set host_cpus: \"\" to say the host keeps none",
        allCpus(sysfs, topology).toString());
}

}  // namespace

std::unique_ptr<CpufreqBackend> makeBackend(std::string_view driver, const Sysfs& sysfs,
                                            std::uint32_t step_khz) {
    const std::string name(driver);
    if (driver == "acpi-cpufreq" || driver == "intel_cpufreq") {
        return std::make_unique<UserspaceBackend>(sysfs, name, step_khz);
    }
    // amd-pstate's active mode reports itself as amd-pstate-epp.
    if (driver == "intel_pstate" || driver == "amd-pstate" || driver == "amd-pstate-epp" ||
        driver == "cppc_cpufreq") {
        return std::make_unique<MinMaxBackend>(sysfs, name, step_khz);
    }
    throw CpufreqError(
        fmt::format("cpufreq driver '{}' is not supported (supported: acpi-cpufreq, intel_cpufreq, "
                    "intel_pstate, "
                    "amd-pstate, amd-pstate-epp, cppc_cpufreq)",
                    driver));
}

std::unique_ptr<Arbiter> makeArbiter(const CpufreqOptions& options) {
    std::error_code ec;
    if (!fs::is_directory(options.sysfs_root, ec)) {
        throw CpufreqError(
            fmt::format("sysfs root {} is not a directory", options.sysfs_root.string()));
    }
    fs::create_directories(options.state_dir, ec);
    if (ec) {
        throw CpufreqError(fmt::format("state directory {}: cannot create: {}",
                                       options.state_dir.string(), ec.message()));
    }
    auto sysfs = std::make_unique<Sysfs>(options.sysfs_root);
    const fs::path journal = options.state_dir / kCpufreqJournalName;
    const std::string boot_id = currentBootId(options.proc_root);
    RestoreJournal::recoverCrashed(*sysfs, journal, boot_id);

    CpufreqTopology topology = CpufreqTopology::scan(*sysfs);
    std::unique_ptr<CpufreqBackend> backend;
    if (topology.empty()) {
        LOG(Cpufreq).warn(
            "cpufreq: no cpufreq policies under {}; guests' frequency requests will be refused",
            options.sysfs_root.string());
    } else {
        const std::string driver = options.driver_override.empty() ? treeDriver(*sysfs, topology)
                                                                   : options.driver_override;
        backend = makeBackend(driver, *sysfs, options.step_khz);
        LOG(Cpufreq).info("cpufreq: driver {}, {} policies under {}", driver,
                          topology.policies().size(), options.sysfs_root.string());
        warnAboutOtherCpufreqWriters(options.proc_root);
    }
    HostDefault host =
        options.host_cpus ? HostDefault{*options.host_cpus, false} : defaultHost(*sysfs, topology);
    if (host.everywhere && backend) warnHostEverywhere(*sysfs, topology);
    return std::make_unique<Arbiter>(std::move(sysfs), std::move(topology), std::move(backend),
                                     journal, std::move(host.cpus), boot_id, host.everywhere);
}

}  // namespace vmpower
