#include "make_arbiter.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <memory>

#include "cpufreq_error.h"
#include "log_capture.h"
#include "sysfs_fixture.h"

using namespace vmpower;
using vmpower::test::SysfsFixture;

namespace {

CpufreqOptions optionsFor(const SysfsFixture& fx) {
    CpufreqOptions o;
    o.sysfs_root = fx.root();
    o.state_dir = fx.scratch("state");
    o.proc_root = fx.scratch("proc");
    o.host_cpus = CpuSet{};  // agent.host_cpus: "", so a VM alone may turn turbo off
    return o;
}

const Requester kA = Requester::vcpu("aaaaaaaa-0000-0000-0000-000000000001", 1);

}  // namespace

TEST(CpufreqMakeArbiter, CrashJournalIsRestoredAtStart) {
    SysfsFixture fx("acpi-cpufreq");
    const auto options = optionsFor(fx);
    const auto before = fx.snapshot();
    // A child process applies requests and dies without any cleanup.
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        auto a = makeArbiter(options);
        bool ok = a->apply(kA, {0, 2}, PowerAction::Max, {}) &&
                  a->apply(kA, {1}, PowerAction::DisableTurbo, {});
        ::_exit(ok ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    const auto journal = options.state_dir / kCpufreqJournalName;
    ASSERT_TRUE(std::filesystem::exists(journal));
    EXPECT_EQ(fx.changedFiles().size(), 5u);  // 2 governors, 2 setspeeds, boost

    auto a = makeArbiter(options);
    EXPECT_EQ(fx.snapshot(), before);
    EXPECT_FALSE(std::filesystem::exists(journal));
}

TEST(CpufreqMakeArbiter, NoCpufreqConstructsAndRefusesEverything) {
    vmpower::test::TempDir dir;
    std::filesystem::create_directories(dir.path() /
                                        "sys/devices/system/cpu/cpu0");  // like these hosts
    CpufreqOptions o;
    o.sysfs_root = dir.path() / "sys";
    o.state_dir = dir.path() / "state";
    o.proc_root = dir.path() / "proc";
    auto a = makeArbiter(o);
    EXPECT_FALSE(a->hasCpufreq());
    for (auto action : {PowerAction::ScaleUp, PowerAction::Max, PowerAction::EnableTurbo}) {
        EXPECT_FALSE(a->apply(kA, {0}, action, {}));
    }
    EXPECT_FALSE(a->currentFrequency(0));
    EXPECT_TRUE(a->availableFrequencies(0).empty());
    EXPECT_FALSE(a->turboCapable(0));
    EXPECT_FALSE(a->highPriority(0));
    a->release(kA.domainUuid());
    EXPECT_TRUE(a->restoreAll());
    EXPECT_FALSE(std::filesystem::exists(o.state_dir / kCpufreqJournalName));
}

TEST(CpufreqMakeArbiter, DriverOverride) {
    SysfsFixture fx("cppc_cpufreq");
    auto o = optionsFor(fx);
    o.driver_override = "acpi-cpufreq";  // cppc offers userspace: drive it through setspeed
    auto a = makeArbiter(o);
    EXPECT_EQ(a->driver(), "acpi-cpufreq");
    ASSERT_TRUE(a->apply(kA, {1}, PowerAction::Max, {}));
    EXPECT_EQ(fx.read("devices/system/cpu/cpufreq/policy0/scaling_setspeed"), "3000000\n");
}

TEST(CpufreqMakeArbiter, UnusableTreesThrowClearly) {
    CpufreqOptions missing;
    missing.sysfs_root = "/nonexistent/sys";
    EXPECT_THROW(makeArbiter(missing), CpufreqError);

    SysfsFixture fx("intel_pstate");
    auto o = optionsFor(fx);
    o.driver_override = "p4-clockmod";
    try {
        makeArbiter(o);
        FAIL();
    } catch (const CpufreqError& e) {
        EXPECT_NE(std::string(e.what()).find("p4-clockmod"), std::string::npos);
    }
    o.driver_override.clear();
    fx.write("devices/system/cpu/cpufreq/policy3/scaling_driver", "acpi-cpufreq\n");
    EXPECT_THROW(makeArbiter(o), CpufreqError);  // mixed drivers
}

TEST(CpufreqMakeArbiter, WarnsAboutTuned) {
    SysfsFixture fx("intel_pstate");
    auto o = optionsFor(fx);
    std::filesystem::create_directories(o.proc_root / "4242");
    std::ofstream(o.proc_root / "4242" / "comm") << "tuned\n";
    // The warning is what this is for: capture the log while the arbiter is made.
    auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_st>(64);
    auto previous = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
    std::unique_ptr<Arbiter> a;
    EXPECT_NO_THROW(a = makeArbiter(o));  // a warning, not a failure
    spdlog::set_default_logger(previous);
    const auto lines = sink->last_formatted();
    EXPECT_EQ(std::count_if(lines.begin(), lines.end(),
                            [](const std::string& line) {
                                return line.find(
                                           "[warning] cpufreq: tuned is running and also "
                                           "writes cpufreq settings") != std::string::npos;
                            }),
              1)
        << ::testing::PrintToString(lines);
}

TEST(CpufreqMakeArbiter, WarnsOnceWhenTheHostMayRunEverywhere) {
    // Issue 25: nothing isolated and agent.host_cpus unset.
    auto warnings = [](const char* isolated, std::optional<CpuSet> host) {
        SysfsFixture fx("acpi-cpufreq");
        auto o = optionsFor(fx);
        o.host_cpus = std::move(host);
        fx.write("devices/system/cpu/isolated", isolated);
        vmpower::test::LogCapture log;
        auto a = makeArbiter(o);
        return log.linesWith({"no CPU is isolated and agent.host_cpus is unset"});
    };
    const auto lines = warnings("\n", std::nullopt);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("warning"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("every CPU (0-3)"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("agent.host_cpus (e.g. host_cpus: 0-1)"), std::string::npos)
        << lines[0];
    EXPECT_TRUE(warnings("2-3\n", std::nullopt).empty()) << "an NFV host sees nothing new";
    EXPECT_TRUE(warnings("\n", CpuSet{}).empty()) << "host_cpus: \"\" is an answer";
}
