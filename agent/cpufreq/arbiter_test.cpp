#include "arbiter.h"

#include <gtest/gtest.h>

#include <tuple>

#include "arbiter_test_support.h"

using namespace vmpower;
using namespace vmpower::test;
using Files = std::vector<std::string>;

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

    t.arbiter->release(kA.domainUuid());
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
    t.arbiter->release(kA.domainUuid());
    EXPECT_TRUE(t.fx.changedFiles().empty());
}

TEST(CpufreqArbiter, ConfiguredStep) {
    ArbiterTest t("intel_pstate", 500000);
    ASSERT_TRUE(
        t.apply(kA, {0}, PowerAction::ScaleUp));  // 1123456 -> 1400000 (400000 + 2 * 500000)
    EXPECT_EQ(t.get(pol(0, "scaling_min_freq")), "1400000\n");
}

// --- arbitration ---

// The tests above and below report no footprints: without stakeholders
// only the arbitration among holders applies. With footprints (as the agent
// always reports them), a lone request to slow a shared policy is refused:
// CpufreqArbiterShared below.
TEST(CpufreqArbiter, HighestRequestWinsOnASharedPolicy) {
    ArbiterTest t("acpi-cpufreq");  // CPUs 2 and 3 share policy2
    ASSERT_TRUE(t.apply(kA, {2}, PowerAction::Max));
    ASSERT_TRUE(t.apply(kB, {3}, PowerAction::Min));  // B cannot slow A down
    EXPECT_EQ(t.get(pol(2, "scaling_setspeed")), "3400000\n");
    ASSERT_TRUE(t.apply(kA, {2}, PowerAction::ScaleDown));
    EXPECT_EQ(t.get(pol(2, "scaling_setspeed")), "3200000\n");
    EXPECT_EQ(t.arbiter->currentFrequency(3), 3200000u);

    t.arbiter->release(kA.domainUuid());  // B's own request now decides
    EXPECT_EQ(t.get(pol(2, "scaling_setspeed")), "800000\n");
    EXPECT_EQ(t.fx.changedFiles(), (Files{pol(2, "scaling_governor"), pol(2, "scaling_setspeed")}));
    t.arbiter->release(kB.domainUuid());  // nobody holds policy2: restored
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
    t.arbiter->release(kA.domainUuid());
    // policy0 back as found; policy1 and policy2 held by B at the minimum.
    EXPECT_EQ(t.fx.changedFiles(), (Files{pol(1, "scaling_max_freq"), pol(2, "scaling_max_freq")}));
    t.arbiter->release("no-such-domain");
    t.arbiter->release(kB.domainUuid());
    EXPECT_TRUE(t.fx.changedFiles().empty());
}

TEST(CpufreqArbiter, TurboOnIfAnyoneWantsIt) {
    ArbiterTest t("intel_pstate");  // no_turbo is one switch for the machine
    ASSERT_TRUE(t.apply(kA, {0}, PowerAction::DisableTurbo));
    EXPECT_EQ(t.get(kNoTurbo), "1\n");
    ASSERT_TRUE(t.apply(kB, {3}, PowerAction::EnableTurbo));
    EXPECT_EQ(t.get(kNoTurbo), "0\n");
    t.arbiter->release(kB.domainUuid());
    EXPECT_EQ(t.get(kNoTurbo), "1\n");
    t.arbiter->release(kA.domainUuid());
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
    const PowerVerdict v = t.arbiter->apply(kA, {0, 7}, PowerAction::Max, kAny);
    EXPECT_FALSE(v.applied);
    EXPECT_FALSE(v.shared_hardware) << "cpufreq's own refusal, not the shared-hardware rule";
    EXPECT_FALSE(t.apply(kA, {}, PowerAction::Max));
    EXPECT_TRUE(t.fx.changedFiles().empty());
    EXPECT_FALSE(std::filesystem::exists(t.journal));
    EXPECT_FALSE(t.arbiter->currentFrequency(7));
    EXPECT_TRUE(t.arbiter->availableFrequencies(7).empty());
}

TEST(CpufreqArbiter, UnusablePolicyWritesNothing) {
    ArbiterTest t("acpi-cpufreq");
    t.fx.write(pol(2, "scaling_available_governors"), "performance powersave\n");  // no userspace
    // The verdict is taken once, when the arbiter starts (the agent's start).
    t.arbiter.reset();
    CpufreqOptions o;
    o.sysfs_root = t.fx.root();
    o.state_dir = t.fx.scratch("state");
    o.proc_root = t.fx.scratch("proc");
    t.arbiter = makeArbiter(o);
    const auto before = t.fx.snapshot();
    auto refused = t.arbiter->apply(kA, CpuSet{0, 1, 2}, PowerAction::Max, kAny);
    EXPECT_FALSE(refused.applied);
    EXPECT_NE(refused.refusal.find("has no userspace governor"), std::string::npos)
        << refused.refusal;
    EXPECT_EQ(t.fx.snapshot(), before);
    EXPECT_FALSE(std::filesystem::exists(t.journal));
    EXPECT_TRUE(t.apply(kA, {0, 1}, PowerAction::Max));
}

TEST(CpufreqArbiter, AFailedWriteValidatesThePolicyAgainBeforeItsNextRequest) {
    ArbiterTest t("acpi-cpufreq");
    ASSERT_TRUE(t.apply(kA, {0}, PowerAction::Max));  // scaling_setspeed now kept open
    std::filesystem::remove(t.fx.root() / pol(0, "scaling_setspeed"));
    auto failed = t.arbiter->apply(kA, CpuSet{0}, PowerAction::Min, kAny);
    EXPECT_FALSE(failed.applied);
    EXPECT_NE(failed.refusal.find("writing cpufreq failed"), std::string::npos) << failed.refusal;
    // Checked again, not written again: the refusal says what is missing.
    auto refused = t.arbiter->apply(kA, CpuSet{0}, PowerAction::Min, kAny);
    EXPECT_FALSE(refused.applied);
    EXPECT_NE(refused.refusal.find("scaling_setspeed is missing"), std::string::npos)
        << refused.refusal;
    EXPECT_FALSE(std::filesystem::exists(t.fx.root() / pol(0, "scaling_setspeed")));
    // The file is back (CPU hot-plugged again): the policy is served again.
    t.fx.write(pol(0, "scaling_setspeed"), "3400000\n");
    ASSERT_TRUE(t.apply(kA, {0}, PowerAction::Min));
    EXPECT_EQ(t.get(pol(0, "scaling_setspeed")),
              std::to_string(t.arbiter->availableFrequencies(0).front()) + "\n");
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
    t.arbiter->release(kA.domainUuid());
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
    const Requester a1 = Requester::vcpu(kA.domainUuid(), 1);
    ASSERT_TRUE(t.apply(kA, {0}, PowerAction::Max));  // vCPU 0 on pCPU 0
    ASSERT_TRUE(t.apply(a1, {1}, PowerAction::Max));  // vCPU 1 on pCPU 1
    auto held = t.fx.changedFiles();
    ASSERT_EQ(held, (Files{pol(0, "scaling_governor"), pol(0, "scaling_setspeed"),
                           pol(1, "scaling_governor"), pol(1, "scaling_setspeed")}));
    // vCPU 1 still runs on pCPU 1 (among others): nothing changes.
    t.arbiter->releaseOutside(a1, CpuSet{1, 2});
    EXPECT_EQ(t.fx.changedFiles(), held);
    // vCPU 1 moved to pCPU 0: policy1 is given back, vCPU 0's hold on policy0 stays.
    t.arbiter->releaseOutside(a1, CpuSet{0});
    EXPECT_EQ(t.fx.changedFiles(), (Files{pol(0, "scaling_governor"), pol(0, "scaling_setspeed")}));
    EXPECT_EQ(t.get(pol(0, "scaling_setspeed")), "3400000\n");
}
