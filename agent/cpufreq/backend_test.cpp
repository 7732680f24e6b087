#include <gtest/gtest.h>

#include "cpufreq_error.h"
#include "frequency_steps.h"
#include "make_arbiter.h"
#include "min_max_backend.h"
#include "sysfs.h"
#include "sysfs_fixture.h"
#include "userspace_backend.h"

using namespace vmpower;
using vmpower::test::SysfsFixture;

namespace {

std::string pol(int n, const char* attr) {
    return "devices/system/cpu/cpufreq/policy" + std::to_string(n) + "/" + attr;
}

struct Tree {
    explicit Tree(const char* driver)
        : fx(driver), sysfs(fx.root()), topo(CpufreqTopology::scan(sysfs)) {}
    const CpufreqPolicy& policyOf(unsigned cpu) const { return topo.policy(*topo.domainOf(cpu)); }
    SysfsFixture fx;
    Sysfs sysfs;
    CpufreqTopology topo;
};

// Records every write and checks min <= max after each one, as an older
// kernel would by refusing the write.
struct OrderRecorder {
    explicit OrderRecorder(Tree& t, int policy) : tree(t) {
        t.sysfs.setWriteObserver([this, policy](const std::string& file, std::string_view value) {
            writes.push_back(std::filesystem::path(file).filename().string() + "=" +
                             std::string(trimSysfs(value)));
            const auto min = tree.sysfs.readKhz(pol(policy, "scaling_min_freq"));
            const auto max = tree.sysfs.readKhz(pol(policy, "scaling_max_freq"));
            if (min > max) crossed = true;
        });
    }
    Tree& tree;
    std::vector<std::string> writes;
    bool crossed = false;
};

}  // namespace

TEST(CpufreqBackend, FactoryPicksByDriverName) {
    Tree t("acpi-cpufreq");
    EXPECT_NE(dynamic_cast<UserspaceBackend*>(makeBackend("acpi-cpufreq", t.sysfs, 0).get()),
              nullptr);
    EXPECT_NE(dynamic_cast<UserspaceBackend*>(makeBackend("intel_cpufreq", t.sysfs, 0).get()),
              nullptr);
    for (const char* d : {"intel_pstate", "amd-pstate", "amd-pstate-epp", "cppc_cpufreq"}) {
        EXPECT_NE(dynamic_cast<MinMaxBackend*>(makeBackend(d, t.sysfs, 0).get()), nullptr) << d;
    }
    EXPECT_THROW(makeBackend("speedstep-centrino", t.sysfs, 0), CpufreqError);
}

TEST(CpufreqBackend, UserspaceSwitchesGovernorThenWritesSetspeed) {
    Tree t("acpi-cpufreq");
    UserspaceBackend b(t.sysfs, "acpi-cpufreq", 0);
    const auto& p = t.policyOf(3);
    EXPECT_TRUE(b.usable(p));
    b.prepare(p);
    b.setFrequency(p, 2400000);
    EXPECT_EQ(t.fx.changedFiles(),
              (std::vector<std::string>{pol(2, "scaling_governor"), pol(2, "scaling_setspeed")}));
    EXPECT_EQ(t.fx.read(pol(2, "scaling_governor")), "userspace\n");
    EXPECT_EQ(t.fx.read(pol(2, "scaling_setspeed")), "2400000\n");
}

TEST(CpufreqBackend, UserspaceNeedsTheUserspaceGovernor) {
    Tree t("acpi-cpufreq");
    t.fx.write(pol(1, "scaling_available_governors"), "performance powersave\n");
    UserspaceBackend b(t.sysfs, "acpi-cpufreq", 0);
    EXPECT_FALSE(b.usable(t.policyOf(1)));
    EXPECT_TRUE(b.usable(t.policyOf(0)));
}

TEST(CpufreqBackend, StepsFromListOrConfiguredStep) {
    Tree acpi("acpi-cpufreq");
    UserspaceBackend listed(acpi.sysfs, "acpi-cpufreq", 0);
    auto steps = listed.frequencySteps(acpi.policyOf(0));
    EXPECT_EQ(steps.front(), 800000u);
    EXPECT_EQ(steps.back(), 3400000u);
    EXPECT_EQ(steps.size(), 14u);
    UserspaceBackend stepped(acpi.sysfs, "acpi-cpufreq", 1300000);
    EXPECT_EQ(stepped.frequencySteps(acpi.policyOf(0)),
              (std::vector<std::uint32_t>{800000, 2100000, 3400000}));

    Tree cppc("cppc_cpufreq");  // no list: the default 100 MHz step
    MinMaxBackend b(cppc.sysfs, "cppc_cpufreq", 0);
    steps = b.frequencySteps(cppc.policyOf(0));
    EXPECT_EQ(steps.front(), 1000000u);
    EXPECT_EQ(steps.back(), 3000000u);
    EXPECT_EQ(steps.size(), 21u);
    EXPECT_EQ(linearSteps(400000, 4700000, 1000000),
              (std::vector<std::uint32_t>{400000, 1400000, 2400000, 3400000, 4400000, 4700000}));
    EXPECT_EQ(linearSteps(4294967295u, 4294967295u, 100000),
              (std::vector<std::uint32_t>{4294967295u}));
}

TEST(CpufreqBackend, MinMaxLowersMinFirstAndRaisesMaxFirst) {
    Tree t("intel_pstate");
    MinMaxBackend b(t.sysfs, "intel_pstate", 0);
    OrderRecorder rec(t, 1);
    const auto& p = t.policyOf(1);
    b.setFrequency(p, 2000000);  // from 400000..4700000: below max, min first
    b.setFrequency(p, 3000000);  // above the pinned max: max first
    b.setFrequency(p, 1000000);  // below: min first
    EXPECT_EQ(rec.writes,
              (std::vector<std::string>{"scaling_min_freq=2000000", "scaling_max_freq=2000000",
                                        "scaling_max_freq=3000000", "scaling_min_freq=3000000",
                                        "scaling_min_freq=1000000", "scaling_max_freq=1000000"}));
    EXPECT_FALSE(rec.crossed);
    EXPECT_EQ(t.fx.changedFiles(),
              (std::vector<std::string>{pol(1, "scaling_max_freq"), pol(1, "scaling_min_freq")}));
}

TEST(CpufreqBackend, TurboKnobPerDriver) {
    Tree intel("intel_pstate");
    auto k = MinMaxBackend(intel.sysfs, "intel_pstate", 0).turboKnob(intel.policyOf(0));
    ASSERT_TRUE(k);
    EXPECT_EQ(k->file, "devices/system/cpu/intel_pstate/no_turbo");
    EXPECT_TRUE(k->inverted);
    EXPECT_TRUE(k->global);

    Tree amd("amd-pstate");  // per-policy boost wins over the global one
    k = MinMaxBackend(amd.sysfs, "amd-pstate-epp", 0).turboKnob(amd.policyOf(2));
    ASSERT_TRUE(k);
    EXPECT_EQ(k->file, pol(2, "boost"));
    EXPECT_FALSE(k->global);

    Tree acpi("acpi-cpufreq");
    k = UserspaceBackend(acpi.sysfs, "acpi-cpufreq", 0).turboKnob(acpi.policyOf(0));
    ASSERT_TRUE(k);
    EXPECT_EQ(k->file, "devices/system/cpu/cpufreq/boost");
    EXPECT_TRUE(k->global);
    EXPECT_FALSE(k->inverted);

    Tree cppc("cppc_cpufreq");
    EXPECT_FALSE(MinMaxBackend(cppc.sysfs, "cppc_cpufreq", 0).turboKnob(cppc.policyOf(0)));
}
