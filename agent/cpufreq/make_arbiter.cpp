#include "make_arbiter.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "backend_factory.h"
#include "cpufreq_error.h"
#include "other_writers.h"
#include "restore_journal.h"

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

}  // namespace

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
    RestoreJournal::recoverCrashed(*sysfs, journal);

    CpufreqTopology topology = CpufreqTopology::scan(*sysfs);
    std::unique_ptr<CpufreqBackend> backend;
    if (topology.empty()) {
        spdlog::warn(
            "cpufreq: no cpufreq policies under {}; guests' frequency requests will be refused",
            options.sysfs_root.string());
    } else {
        const std::string driver = options.driver_override.empty() ? treeDriver(*sysfs, topology)
                                                                   : options.driver_override;
        backend = makeBackend(driver, *sysfs, options.step_khz);
        spdlog::info("cpufreq: driver {}, {} policies under {}", driver, topology.policies().size(),
                     options.sysfs_root.string());
        warnAboutOtherCpufreqWriters(options.proc_root);
    }
    return std::make_unique<Arbiter>(std::move(sysfs), std::move(topology), std::move(backend),
                                     journal);
}

}  // namespace vmpower
