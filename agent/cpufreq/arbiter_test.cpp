#include "arbiter.h"

#include <gtest/gtest.h>

#include "make_arbiter.h"
#include "sysfs_fixture.h"

using namespace vmpower;
using vmpower::test::SysfsFixture;
using Files = std::vector<std::string>;

namespace {

std::string pol(int n, const char* attr) {
    return "devices/system/cpu/cpufreq/policy" + std::to_string(n) + "/" + attr;
}

const std::string kNoTurbo = "devices/system/cpu/intel_pstate/no_turbo";
const std::string kBoost = "devices/system/cpu/cpufreq/boost";
const FrequencyLimits kAny{};
const Requester kA{"aaaaaaaa-0000-0000-0000-000000000001", 0};
const Requester kB{"bbbbbbbb-0000-0000-0000-000000000002", 0};

struct ArbiterTest {
    explicit ArbiterTest(const char* driver, std::uint32_t step_khz = 0) : fx(driver) {
        CpufreqOptions o;
        o.sysfs_root = fx.root();
        o.state_dir = fx.scratch("state");
        o.proc_root = fx.scratch("proc");
        o.step_khz = step_khz;
        arbiter = makeArbiter(o);
        journal = o.state_dir / kCpufreqJournalName;
    }
    bool apply(const Requester& who, CpuSet cpus, PowerAction a, FrequencyLimits l = kAny) {
        return arbiter->apply(who, cpus, a, l).applied;
    }
    std::string get(const std::string& file) const { return fx.read(file); }

    SysfsFixture fx;
    std::unique_ptr<Arbiter> arbiter;
    std::filesystem::path journal;
};

}  // namespace

// --- every action changes exactly the expected files, per driver ---

TEST(CpufreqArbiter, AcpiActions) {
    ArbiterTest t("acpi-cpufreq");
    EXPECT_EQ(t.arbiter->driver(), "acpi-cpufreq");
    ASSERT_TRUE(t.apply(kA, {0}, PowerAction::ScaleDown));  // from scaling_cur_freq 1600000
    EXPECT_EQ(t.fx.changedFiles(), (Files{pol(0, "scaling_governor"), pol(0, "scaling_setspeed")}));
    EXPECT_EQ(t.get(pol(0, "scaling_governor")), "userspace\n");
    EXPECT_EQ(t.get(pol(0, "scaling_setspeed")), "1400000\n");
    ASSERT_TRUE(t.apply(kA, {0}, PowerAction::ScaleUp));  // from its own held level
    EXPECT_EQ(t.get(pol(0, "scaling_setspeed")), "1600000\n");
    ASSERT_TRUE(t.apply(kA, {0}, PowerAction::Max));
    EXPECT_EQ(t.get(pol(0, "scaling_setspeed")), "3400000\n");
    ASSERT_TRUE(t.apply(kA, {0}, PowerAction::ScaleUp));  // stays at the top
    EXPECT_EQ(t.get(pol(0, "scaling_setspeed")), "3400000\n");
    ASSERT_TRUE(t.apply(kA, {0}, PowerAction::Min));
    EXPECT_EQ(t.get(pol(0, "scaling_setspeed")), "800000\n");
    EXPECT_EQ(t.arbiter->currentFrequency(0), 800000u);
    EXPECT_EQ(t.fx.changedFiles(), (Files{pol(0, "scaling_governor"), pol(0, "scaling_setspeed")}));

    ASSERT_TRUE(t.apply(kA, {0}, PowerAction::DisableTurbo));
    EXPECT_EQ(t.get(kBoost), "0\n");
    EXPECT_EQ(t.fx.changedFiles(),
              (Files{kBoost, pol(0, "scaling_governor"), pol(0, "scaling_setspeed")}));
    ASSERT_TRUE(t.apply(kA, {0}, PowerAction::EnableTurbo));
    EXPECT_EQ(t.get(kBoost), "1\n");

    t.arbiter->release(kA.domain_uuid);
    EXPECT_TRUE(t.fx.changedFiles().empty());
    EXPECT_FALSE(std::filesystem::exists(t.journal));
}

TEST(CpufreqArbiter, IntelPstateActions) {
    ArbiterTest t("intel_pstate");
    ASSERT_TRUE(t.apply(kA, {1}, PowerAction::ScaleUp));  // 1123456 -> next 100 MHz step
    EXPECT_EQ(t.fx.changedFiles(), (Files{pol(1, "scaling_max_freq"), pol(1, "scaling_min_freq")}));
    EXPECT_EQ(t.get(pol(1, "scaling_min_freq")), "1200000\n");
    EXPECT_EQ(t.get(pol(1, "scaling_max_freq")), "1200000\n");
    EXPECT_EQ(t.get(pol(1, "scaling_governor")), "powersave\n");  // governor untouched
    ASSERT_TRUE(t.apply(kA, {1}, PowerAction::Max));
    EXPECT_EQ(t.fx.changedFiles(), (Files{pol(1, "scaling_min_freq")}));  // max back at 4700000
    EXPECT_EQ(t.get(pol(1, "scaling_min_freq")), "4700000\n");
    ASSERT_TRUE(t.apply(kA, {1}, PowerAction::Min));
    EXPECT_EQ(t.fx.changedFiles(), (Files{pol(1, "scaling_max_freq")}));  // min back at 400000

    ASSERT_TRUE(t.apply(kA, {1}, PowerAction::DisableTurbo));
    EXPECT_EQ(t.get(kNoTurbo), "1\n");
    EXPECT_EQ(t.fx.changedFiles(), (Files{pol(1, "scaling_max_freq"), kNoTurbo}));
    EXPECT_TRUE(t.arbiter->turboCapable(1));
    EXPECT_FALSE(t.arbiter->highPriority(1));

    EXPECT_TRUE(t.arbiter->restoreAll());
    EXPECT_TRUE(t.fx.changedFiles().empty());
}

TEST(CpufreqArbiter, AmdPstateActions) {
    ArbiterTest t("amd-pstate");
    EXPECT_EQ(t.arbiter->driver(), "amd-pstate-epp");
    ASSERT_TRUE(t.apply(kA, {2}, PowerAction::ScaleDown));  // 1397000 -> 1300000
    EXPECT_EQ(t.fx.changedFiles(), (Files{pol(2, "scaling_max_freq"), pol(2, "scaling_min_freq")}));
    EXPECT_EQ(t.get(pol(2, "scaling_max_freq")), "1300000\n");
    ASSERT_TRUE(t.apply(kA, {2}, PowerAction::DisableTurbo));  // per-policy boost
    EXPECT_EQ(t.get(pol(2, "boost")), "0\n");
    EXPECT_EQ(t.get(kBoost), "1\n");
    EXPECT_EQ(t.fx.changedFiles(),
              (Files{pol(2, "boost"), pol(2, "scaling_max_freq"), pol(2, "scaling_min_freq")}));
    t.arbiter.reset();  // destruction restores too
    EXPECT_TRUE(t.fx.changedFiles().empty());
}

TEST(CpufreqArbiter, CppcActionsAndNoTurbo) {
    ArbiterTest t("cppc_cpufreq");
    ASSERT_TRUE(t.apply(kA, {3}, PowerAction::Min));
    EXPECT_EQ(t.fx.changedFiles(), (Files{pol(2, "scaling_max_freq")}));
    EXPECT_EQ(t.get(pol(2, "scaling_max_freq")), "1000000\n");
    EXPECT_FALSE(t.arbiter->turboCapable(3));
    EXPECT_FALSE(t.apply(kA, {3}, PowerAction::EnableTurbo));
    EXPECT_EQ(t.fx.changedFiles(), (Files{pol(2, "scaling_max_freq")}));
    EXPECT_EQ(t.arbiter->availableFrequencies(2).size(), 21u);
    t.arbiter->release(kA.domain_uuid);
    EXPECT_TRUE(t.fx.changedFiles().empty());
}

TEST(CpufreqArbiter, ConfiguredStep) {
    ArbiterTest t("intel_pstate", 500000);
    ASSERT_TRUE(
        t.apply(kA, {0}, PowerAction::ScaleUp));  // 1123456 -> 1400000 (400000 + 2 * 500000)
    EXPECT_EQ(t.get(pol(0, "scaling_min_freq")), "1400000\n");
}

// --- arbitration ---

TEST(CpufreqArbiter, HighestRequestWinsOnASharedPolicy) {
    ArbiterTest t("acpi-cpufreq");  // CPUs 2 and 3 share policy2
    ASSERT_TRUE(t.apply(kA, {2}, PowerAction::Max));
    ASSERT_TRUE(t.apply(kB, {3}, PowerAction::Min));  // B cannot slow A down
    EXPECT_EQ(t.get(pol(2, "scaling_setspeed")), "3400000\n");
    ASSERT_TRUE(t.apply(kA, {2}, PowerAction::ScaleDown));
    EXPECT_EQ(t.get(pol(2, "scaling_setspeed")), "3200000\n");
    EXPECT_EQ(t.arbiter->currentFrequency(3), 3200000u);

    t.arbiter->release(kA.domain_uuid);  // B's own request now decides
    EXPECT_EQ(t.get(pol(2, "scaling_setspeed")), "800000\n");
    EXPECT_EQ(t.fx.changedFiles(), (Files{pol(2, "scaling_governor"), pol(2, "scaling_setspeed")}));
    t.arbiter->release(kB.domain_uuid);  // nobody holds policy2: restored
    EXPECT_TRUE(t.fx.changedFiles().empty());
}

TEST(CpufreqArbiter, ScaleFromCurrentWhenHoldingNothing) {
    ArbiterTest t("acpi-cpufreq");
    ASSERT_TRUE(t.apply(kA, {2}, PowerAction::ScaleDown));  // 1600000 -> 1400000
    ASSERT_TRUE(t.apply(kB, {3}, PowerAction::ScaleUp));    // from 1400000 applied -> 1600000
    EXPECT_EQ(t.get(pol(2, "scaling_setspeed")), "1600000\n");
}

TEST(CpufreqArbiter, ReleaseOnlyRestoresWhatNobodyHolds) {
    ArbiterTest t("intel_pstate");
    ASSERT_TRUE(t.apply(kA, {0, 1}, PowerAction::Max));
    ASSERT_TRUE(t.apply(kB, {1, 2}, PowerAction::Min));
    t.arbiter->release(kA.domain_uuid);
    // policy0 back as found; policy1 and policy2 held by B at the minimum.
    EXPECT_EQ(t.fx.changedFiles(), (Files{pol(1, "scaling_max_freq"), pol(2, "scaling_max_freq")}));
    t.arbiter->release("no-such-domain");
    t.arbiter->release(kB.domain_uuid);
    EXPECT_TRUE(t.fx.changedFiles().empty());
}

TEST(CpufreqArbiter, TurboOnIfAnyoneWantsIt) {
    ArbiterTest t("intel_pstate");  // no_turbo is one switch for the machine
    ASSERT_TRUE(t.apply(kA, {0}, PowerAction::DisableTurbo));
    EXPECT_EQ(t.get(kNoTurbo), "1\n");
    ASSERT_TRUE(t.apply(kB, {3}, PowerAction::EnableTurbo));
    EXPECT_EQ(t.get(kNoTurbo), "0\n");
    t.arbiter->release(kB.domain_uuid);
    EXPECT_EQ(t.get(kNoTurbo), "1\n");
    t.arbiter->release(kA.domain_uuid);
    EXPECT_TRUE(t.fx.changedFiles().empty());
}

TEST(CpufreqArbiter, LimitsBoundTheRequestersLevel) {
    ArbiterTest t("acpi-cpufreq");
    ASSERT_TRUE(t.apply(kA, {0}, PowerAction::Max, {0, 2500000}));
    EXPECT_EQ(t.get(pol(0, "scaling_setspeed")), "2400000\n");
    ASSERT_TRUE(t.apply(kA, {0}, PowerAction::Min, {1500000, 2500000}));
    EXPECT_EQ(t.get(pol(0, "scaling_setspeed")), "1600000\n");
    const auto before = t.fx.snapshot();
    EXPECT_FALSE(t.apply(kA, {0}, PowerAction::Max, {2500000, 1500000}));  // floor above ceiling
    EXPECT_FALSE(t.apply(kA, {0}, PowerAction::Max, {0, 700000}));         // no step allowed
    EXPECT_EQ(t.fx.snapshot(), before);
}

// --- all or nothing ---

TEST(CpufreqArbiter, UnknownCpuWritesNothing) {
    ArbiterTest t("acpi-cpufreq");
    EXPECT_FALSE(t.apply(kA, {0, 7}, PowerAction::Max));
    EXPECT_FALSE(t.apply(kA, {}, PowerAction::Max));
    EXPECT_TRUE(t.fx.changedFiles().empty());
    EXPECT_FALSE(std::filesystem::exists(t.journal));
    EXPECT_FALSE(t.arbiter->currentFrequency(7));
    EXPECT_TRUE(t.arbiter->availableFrequencies(7).empty());
}

TEST(CpufreqArbiter, UnusablePolicyWritesNothing) {
    ArbiterTest t("acpi-cpufreq");
    t.fx.write(pol(2, "scaling_available_governors"), "performance powersave\n");  // no userspace
    const auto before = t.fx.snapshot();
    EXPECT_FALSE(t.apply(kA, {0, 1, 2}, PowerAction::Max));
    EXPECT_EQ(t.fx.snapshot(), before);
    EXPECT_FALSE(std::filesystem::exists(t.journal));
    EXPECT_TRUE(t.apply(kA, {0, 1}, PowerAction::Max));
}

TEST(CpufreqArbiter, FailedWriteIsUndone) {
    ArbiterTest t("acpi-cpufreq");
    // setspeed of policy2 cannot be written (a directory): policy0, written
    // first, must be put back.
    std::filesystem::remove(t.fx.root() / pol(2, "scaling_setspeed"));
    std::filesystem::create_directory(t.fx.root() / pol(2, "scaling_setspeed"));
    const auto before = t.fx.snapshot();
    EXPECT_FALSE(t.apply(kA, {0, 2}, PowerAction::Max));
    EXPECT_EQ(t.fx.snapshot(), before);
    EXPECT_FALSE(std::filesystem::exists(t.journal));
}

// --- do no harm ---

TEST(CpufreqArbiter, RestoreAllIsByteIdenticalOnEveryTree) {
    for (const char* driver : {"acpi-cpufreq", "intel_pstate", "amd-pstate", "cppc_cpufreq"}) {
        ArbiterTest t(driver);
        const auto before = t.fx.snapshot();
        CpuSet all{0, 1, 2, 3};
        ASSERT_TRUE(t.apply(kA, all, PowerAction::Max)) << driver;
        ASSERT_TRUE(t.apply(kB, {1}, PowerAction::ScaleDown)) << driver;
        ASSERT_TRUE(t.apply(kB, {2}, PowerAction::Min)) << driver;
        t.apply(kB, {3}, PowerAction::DisableTurbo);  // refused on cppc
        t.apply(kA, {0}, PowerAction::EnableTurbo);
        EXPECT_FALSE(t.fx.changedFiles().empty()) << driver;
        EXPECT_TRUE(std::filesystem::exists(t.journal)) << driver;
        EXPECT_TRUE(t.arbiter->restoreAll()) << driver;
        EXPECT_EQ(t.fx.snapshot(), before) << driver;
        EXPECT_FALSE(std::filesystem::exists(t.journal)) << driver;
        EXPECT_TRUE(t.arbiter->restoreAll()) << driver;  // idempotent
    }
}

TEST(CpufreqArbiter, SetspeedOfAUserspaceGovernorIsKept) {
    ArbiterTest t("acpi-cpufreq");
    t.fx.write(pol(0, "scaling_governor"), "userspace\n");
    t.fx.write(pol(0, "scaling_setspeed"), "2000000\n");
    const auto before = t.fx.snapshot();
    ASSERT_TRUE(t.apply(kA, {0}, PowerAction::Max));
    EXPECT_EQ(vmpower::test::diffTrees(before, t.fx.snapshot()),
              (Files{pol(0, "scaling_setspeed")}));
    t.arbiter->release(kA.domain_uuid);
    EXPECT_EQ(t.fx.snapshot(), before);
}

TEST(CpufreqArbiter, HighPriorityCoresHaveAHigherBaseFrequency) {
    SysfsFixture fx("intel_pstate");
    fx.write(pol(2, "base_frequency"), "2700000\n");
    CpufreqOptions o;
    o.sysfs_root = fx.root();
    o.state_dir = fx.scratch("state");
    o.proc_root = fx.scratch("proc");
    auto a = makeArbiter(o);
    EXPECT_TRUE(a->highPriority(2));
    EXPECT_FALSE(a->highPriority(0));
    EXPECT_FALSE(a->highPriority(9));
}

// --- a re-pinned vCPU lets go of the CPUs it left ---

TEST(CpufreqArbiter, RepinnedVcpuReleasesOnlyThePoliciesItLeft) {
    ArbiterTest t("acpi-cpufreq");
    const Requester a1{kA.domain_uuid, 1};
    ASSERT_TRUE(t.apply(kA, {0}, PowerAction::Max));  // vCPU 0 on pCPU 0
    ASSERT_TRUE(t.apply(a1, {1}, PowerAction::Max));  // vCPU 1 on pCPU 1
    auto held = t.fx.changedFiles();
    ASSERT_EQ(held, (Files{pol(0, "scaling_governor"), pol(0, "scaling_setspeed"),
                           pol(1, "scaling_governor"), pol(1, "scaling_setspeed")}));
    // vCPU 1 still runs on pCPU 1 (among others): nothing changes.
    t.arbiter->releaseVcpuOutside(kA.domain_uuid, 1, CpuSet{1, 2});
    EXPECT_EQ(t.fx.changedFiles(), held);
    // vCPU 1 moved to pCPU 0: policy1 is given back, vCPU 0's hold on policy0 stays.
    t.arbiter->releaseVcpuOutside(kA.domain_uuid, 1, CpuSet{0});
    EXPECT_EQ(t.fx.changedFiles(), (Files{pol(0, "scaling_governor"), pol(0, "scaling_setspeed")}));
    EXPECT_EQ(t.get(pol(0, "scaling_setspeed")), "3400000\n");
}
