#include "topology.h"

#include <gtest/gtest.h>

#include "cpufreq_error.h"
#include "sysfs.h"
#include "sysfs_fixture.h"

using namespace vmpower;
using vmpower::test::SysfsFixture;

TEST(CpufreqTopology, SharedPolicyGroupsItsCpus) {
    SysfsFixture fx("acpi-cpufreq");
    auto topo = CpufreqTopology::scan(Sysfs(fx.root()));
    ASSERT_EQ(topo.policies().size(), 3u);
    EXPECT_EQ(topo.domainOf(2), topo.domainOf(3));
    EXPECT_NE(topo.domainOf(0), topo.domainOf(1));
    const auto& p = topo.policy(*topo.domainOf(3));
    EXPECT_EQ(p.name, "policy2");
    EXPECT_EQ(p.dir, "devices/system/cpu/cpufreq/policy2");
    EXPECT_EQ(p.cpus.toString(), "2-3");
    EXPECT_EQ(p.file("scaling_setspeed"), "devices/system/cpu/cpufreq/policy2/scaling_setspeed");
    EXPECT_FALSE(topo.domainOf(4));
}

TEST(CpufreqTopology, EveryDriverTreeHasFourCpus) {
    for (const char* driver : {"acpi-cpufreq", "intel_pstate", "amd-pstate", "cppc_cpufreq"}) {
        SysfsFixture fx(driver);
        auto topo = CpufreqTopology::scan(Sysfs(fx.root()));
        for (unsigned cpu = 0; cpu < 4; ++cpu)
            EXPECT_TRUE(topo.domainOf(cpu)) << driver << " cpu" << cpu;
    }
}

TEST(CpufreqTopology, NoCpufreqGivesEmptyTopology) {
    vmpower::test::TempDir empty;
    EXPECT_TRUE(CpufreqTopology::scan(Sysfs(empty.path())).empty());
    SysfsFixture fx("intel_pstate");
    std::filesystem::remove(fx.root() / "devices/system/cpu/cpu1/cpufreq");
    auto topo = CpufreqTopology::scan(Sysfs(fx.root()));
    EXPECT_FALSE(topo.domainOf(1));
    EXPECT_TRUE(topo.domainOf(2));
}

TEST(CpufreqTopology, OfflineCpuIsIgnored) {
    SysfsFixture fx("acpi-cpufreq");
    fx.write("devices/system/cpu/cpufreq/policy2/affected_cpus", "2\n");
    auto topo = CpufreqTopology::scan(Sysfs(fx.root()));
    EXPECT_TRUE(topo.domainOf(2));
    EXPECT_FALSE(topo.domainOf(3));
}

TEST(CpufreqTopology, BrokenTreesThrow) {
    SysfsFixture fx("acpi-cpufreq");
    fx.write("devices/system/cpu/cpufreq/policy1/affected_cpus", "one\n");
    EXPECT_THROW(CpufreqTopology::scan(Sysfs(fx.root())), CpufreqError);
    SysfsFixture fx2("acpi-cpufreq");
    std::filesystem::remove(fx2.root() / "devices/system/cpu/cpufreq/policy0/affected_cpus");
    EXPECT_THROW(CpufreqTopology::scan(Sysfs(fx2.root())), CpufreqError);
}
