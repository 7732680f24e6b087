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

// The host's own CPUs when the operator did not list them: with CPUs
// isolated (isolcpus=, the usual DPDK set-up) every CPU that is not; without
// any, none. Not "every CPU no VM is pinned to": on a host that isolates
// nothing that would make every CPU a host CPU and no CPU could ever be
// slowed; such an operator lists the host's CPUs in agent.host_cpus.
CpuSet defaultHostCpus(const Sysfs& sysfs, const CpufreqTopology& topology) {
    auto isolated = CpuSet::parse(sysfs.tryRead("devices/system/cpu/isolated").value_or(""));
    if (!isolated || isolated->empty()) return {};
    CpuSet all;
    if (auto online = CpuSet::parse(sysfs.tryRead("devices/system/cpu/online").value_or(""))) {
        all = *online;
    }
    for (const auto& p : topology.policies()) all |= p.cpus;
    CpuSet host;
    for (unsigned cpu : all.cpus()) {
        if (!isolated->contains(cpu)) host.add(cpu);
    }
    return host;
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
    CpuSet host = options.host_cpus ? *options.host_cpus : defaultHostCpus(*sysfs, topology);
    return std::make_unique<Arbiter>(std::move(sysfs), std::move(topology), std::move(backend),
                                     journal, std::move(host), boot_id);
}

}  // namespace vmpower
