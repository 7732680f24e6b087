// The arbiter on shared hardware: a guest never slows what it does not own.
#include <gtest/gtest.h>

#include <tuple>

#include "arbiter.h"
#include "arbiter_test_support.h"

using namespace vmpower;
using namespace vmpower::test;
using Files = std::vector<std::string>;

// --- shared hardware (issue 10): a guest never slows what it does not own ---

namespace {

// An arbiter whose domains a and b report footprints, as the registry does.
struct SharedTest : ArbiterTest {
    explicit SharedTest(const char* driver, const char* isolated = nullptr,
                        std::optional<CpuSet> host = CpuSet{})
        : ArbiterTest(driver, 0, isolated, std::move(host)) {}
    void place(const Requester& who, CpuSet cpus) {
        arbiter->setFootprint(who.domainUuid(),
                              who.domainUuid() == kA.domainUuid() ? "vm-a" : "vm-b", cpus);
    }
    PowerVerdict verdict(const Requester& who, CpuSet cpus, PowerAction a) {
        return arbiter->apply(who, cpus, a, kAny);
    }
};

const Requester kOperator = Requester::operatorOverride(2);

}  // namespace

TEST(CpufreqArbiterShared, UnpinnedPairNobodyIsSlowedEverybodyMayRaise) {
    for (const char* driver : {"acpi-cpufreq", "intel_pstate", "amd-pstate", "cppc_cpufreq"}) {
        SharedTest t(driver);
        const CpuSet all{0, 1, 2, 3};
        t.place(kA, all);
        t.place(kB, all);
        for (auto action : {PowerAction::Min, PowerAction::ScaleDown, PowerAction::DisableTurbo}) {
            if (action == PowerAction::DisableTurbo && !t.arbiter->turboCapable(0)) continue;
            auto v = t.verdict(kA, all, action);
            EXPECT_FALSE(v.applied) << driver;
            EXPECT_NE(v.refusal.find("vm-b"), std::string::npos) << driver << ": " << v.refusal;
            EXPECT_TRUE(v.shared_hardware) << driver << ": the metrics count it apart";
        }
        EXPECT_TRUE(t.fx.changedFiles().empty()) << driver;
        EXPECT_TRUE(t.verdict(kA, all, PowerAction::Max).applied) << driver;
        EXPECT_TRUE(t.arbiter->lastRefusal(kA.domainUuid()).find("vm-b") != std::string::npos);
    }
}

TEST(CpufreqArbiterShared, APinnedNeighbourOnTheSamePolicyIsNotSlowed) {
    SharedTest t("acpi-cpufreq");  // policy2 = CPUs 2-3
    t.place(kA, {2});
    t.place(kB, {3});
    auto v = t.verdict(kA, {2}, PowerAction::Min);
    ASSERT_FALSE(v.applied);
    EXPECT_EQ(v.refusal,
              "policy2 (CPUs 2-3) is shared with vm-b, which asked for no frequency there; only "
              "raising to >= 3400000 kHz is allowed");
    EXPECT_TRUE(t.fx.changedFiles().empty());
    EXPECT_FALSE(std::filesystem::exists(t.journal));
    // Policies a is alone on still scale both ways (positive control).
    t.place(kA, {0, 2});
    ASSERT_TRUE(t.apply(kA, {0}, PowerAction::Min));
    EXPECT_EQ(t.get(pol(0, "scaling_setspeed")), "800000\n");
    ASSERT_TRUE(t.apply(kA, {0}, PowerAction::ScaleUp));
    EXPECT_EQ(t.get(pol(0, "scaling_setspeed")), "1000000\n");
    // b holds something: consent; the highest hold wins.
    ASSERT_TRUE(t.apply(kB, {3}, PowerAction::Max));
    ASSERT_TRUE(t.apply(kA, {2}, PowerAction::Min));
    EXPECT_EQ(t.get(pol(2, "scaling_setspeed")), "3400000\n");
    ASSERT_TRUE(t.apply(kB, {3}, PowerAction::Min));
    EXPECT_EQ(t.get(pol(2, "scaling_setspeed")), "800000\n");
}

TEST(CpufreqArbiterShared, CppcTwoSharedPolicies) {
    SharedTest t("cppc_cpufreq");  // policy0 = CPUs 0-1, policy2 = CPUs 2-3
    t.place(kA, {0, 2});
    t.place(kB, {1});
    EXPECT_FALSE(t.apply(kA, {0}, PowerAction::Min));  // b on CPU 1
    ASSERT_TRUE(t.apply(kA, {2}, PowerAction::Min));   // policy2 is a's alone
    EXPECT_EQ(t.fx.changedFiles(), (Files{pol(2, "scaling_max_freq")}));
    EXPECT_FALSE(t.apply(kA, {0}, PowerAction::ScaleUp)) << "2900000 is below the found 3000000";
    EXPECT_TRUE(t.apply(kA, {0}, PowerAction::Max));
}

TEST(CpufreqArbiterShared, GlobalTurboOffOnlyWhenEveryoneHasAWish) {
    for (auto [driver, file, off] :
         {std::tuple{"acpi-cpufreq", kBoost, "0\n"}, std::tuple{"intel_pstate", kNoTurbo, "1\n"}}) {
        SharedTest t(driver);
        t.place(kA, {0});
        t.place(kB, {1});
        auto v = t.verdict(kA, {0}, PowerAction::DisableTurbo);
        ASSERT_FALSE(v.applied) << driver;
        EXPECT_NE(v.refusal.find("shared with vm-b"), std::string::npos) << v.refusal;
        EXPECT_TRUE(t.fx.changedFiles().empty()) << driver;
        ASSERT_TRUE(t.apply(kA, {0}, PowerAction::EnableTurbo)) << driver;   // always allowed
        ASSERT_TRUE(t.apply(kB, {1}, PowerAction::DisableTurbo)) << driver;  // a holds a wish
        EXPECT_TRUE(t.fx.changedFiles().empty()) << driver << ": on while a wants it on";
        ASSERT_TRUE(t.apply(kA, {0}, PowerAction::DisableTurbo)) << driver;
        EXPECT_EQ(t.get(file), off) << driver;
        t.arbiter->release(kA.domainUuid());  // b alone, still wanting off
        EXPECT_EQ(t.get(file), off) << driver;
    }
}

TEST(CpufreqArbiterShared, AmdPerPolicyBoostAndTheGlobalOneStayApart) {
    SharedTest t("amd-pstate");
    t.place(kA, {0});
    t.place(kB, {1});
    ASSERT_TRUE(t.apply(kA, {0}, PowerAction::DisableTurbo));  // policy0's own boost
    EXPECT_EQ(t.fx.changedFiles(), (Files{pol(0, "boost")}));
    t.place(kB, {0, 1});  // b may now run on CPU 0: policy0 goes back as found
    EXPECT_TRUE(t.fx.changedFiles().empty());
    t.place(kB, {1});  // and a's wish is in force again
    EXPECT_EQ(t.fx.changedFiles(), (Files{pol(0, "boost")}));
}

TEST(CpufreqArbiterShared, FootprintChangesRaiseBackAndReapplyTheKeptHolds) {
    SharedTest t("acpi-cpufreq");
    t.place(kA, {2});
    ASSERT_TRUE(t.apply(kA, {2}, PowerAction::Min));
    EXPECT_EQ(t.get(pol(2, "scaling_setspeed")), "800000\n");
    t.place(kB, {3});  // b starts on policy2: raised back as found
    EXPECT_TRUE(t.fx.changedFiles().empty());
    auto d = t.arbiter->describe(3);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->stakeholders, (std::vector<std::string>{"vm-a", "vm-b"}));
    EXPECT_FALSE(d->consent);
    EXPECT_EQ(d->holds.size(), 1u);
    EXPECT_NE(d->note.find("vm-b"), std::string::npos);
    t.place(kB, {0});  // re-pinned away: a's kept hold applies again
    EXPECT_EQ(t.get(pol(2, "scaling_setspeed")), "800000\n");
    t.place(kB, {0, 3});  // back (say, its emulator threads)
    EXPECT_TRUE(t.fx.changedFiles().empty());
    t.arbiter->release(kB.domainUuid());  // b stops
    EXPECT_EQ(t.get(pol(2, "scaling_setspeed")), "800000\n");
    EXPECT_EQ(t.fx.changedFiles(), (Files{pol(2, "scaling_governor"), pol(2, "scaling_setspeed")}));
    // A raise above the found ceiling stays in force with a neighbour.
    ASSERT_TRUE(t.apply(kA, {2}, PowerAction::Max));
    t.place(kB, {3});
    EXPECT_EQ(t.get(pol(2, "scaling_setspeed")), "3400000\n");
}

TEST(CpufreqArbiterShared, HostCpusFromIsolatedNeverAsk) {
    SharedTest t("acpi-cpufreq", "2-3\n", std::nullopt);  // isolcpus=2-3: CPUs 0-1 are the host's
    EXPECT_EQ(t.arbiter->hostCpus().toString(), "0-1");
    t.place(kA, {1});
    auto v = t.verdict(kA, {1}, PowerAction::Min);
    ASSERT_FALSE(v.applied);
    EXPECT_NE(v.refusal.find("host CPU 1"), std::string::npos) << v.refusal;
    t.place(kB, {2, 3});
    EXPECT_TRUE(t.apply(kB, {2}, PowerAction::Min));  // isolated and b's alone
    // The global boost covers host CPUs: only on.
    EXPECT_FALSE(t.apply(kB, {2}, PowerAction::DisableTurbo));
    EXPECT_TRUE(t.apply(kB, {2}, PowerAction::EnableTurbo));
}

TEST(CpufreqArbiterShared, ExplicitHostCpusWinOverIsolated) {
    SharedTest none("acpi-cpufreq", "2-3\n", CpuSet{});  // agent.host_cpus: ""
    EXPECT_TRUE(none.arbiter->hostCpus().empty());
    EXPECT_TRUE(none.apply(kA, {1}, PowerAction::Min));
    SharedTest some("acpi-cpufreq", nullptr, CpuSet{3});
    EXPECT_FALSE(some.apply(kA, {2}, PowerAction::Min));
    EXPECT_TRUE(some.apply(kA, {1}, PowerAction::Min));
}

TEST(CpufreqArbiterShared, NoIsolatedCpusMeansNoHostCpus) {
    SharedTest t("intel_pstate", nullptr, std::nullopt);  // the fixture's isolated file is empty
    EXPECT_TRUE(t.arbiter->hostCpus().empty());
    std::filesystem::remove(t.fx.root() / "devices/system/cpu/isolated");
    SharedTest u("intel_pstate", nullptr, std::nullopt);
    EXPECT_TRUE(u.arbiter->hostCpus().empty());
}

TEST(CpufreqArbiterShared, NothingIsolatedMakesTheHostAStakeholderOfGlobalTurboOnly) {
    // No isolation, host_cpus unset: the host's tasks may run anywhere. A VM
    // alone still scales its own policy, but never turns the host's turbo off.
    for (const char* driver : {"intel_pstate", "acpi-cpufreq"}) {
        SharedTest t(driver, nullptr, std::nullopt);
        t.place(kA, {1});
        EXPECT_TRUE(t.apply(kA, {1}, PowerAction::Min)) << driver;
        auto v = t.verdict(kA, {1}, PowerAction::DisableTurbo);
        ASSERT_FALSE(v.applied) << driver;
        EXPECT_NE(v.refusal.find("the host (no CPU isolated"), std::string::npos) << v.refusal;
        EXPECT_TRUE(t.apply(kA, {1}, PowerAction::EnableTurbo)) << driver;
    }
    // host_cpus: "" says the host keeps nothing: turbo off is A's alone.
    SharedTest none("intel_pstate", nullptr, CpuSet{});
    none.place(kA, {1});
    EXPECT_TRUE(none.apply(kA, {1}, PowerAction::DisableTurbo));
}

TEST(CpufreqArbiterShared, PhysicalRequestsObeyTheSameRule) {
    SharedTest t("acpi-cpufreq");
    t.place(kA, {2});
    t.place(kB, {3});
    const Requester phys = Requester::physical(kA.domainUuid(), 3);
    EXPECT_FALSE(t.apply(phys, {3}, PowerAction::Min));
    EXPECT_TRUE(t.apply(phys, {3}, PowerAction::Max));
}

TEST(CpufreqArbiterShared, TheOperatorOverridesAndIsToldWhomItAffects) {
    SharedTest t("acpi-cpufreq");
    t.place(kA, {2});
    t.place(kB, {3});
    auto v = t.verdict(kOperator, {2}, PowerAction::Min);
    ASSERT_TRUE(v.applied) << v.refusal;
    EXPECT_EQ(v.affected, (std::vector<std::string>{"vm-a", "vm-b"}));
    EXPECT_EQ(t.get(pol(2, "scaling_setspeed")), "800000\n");
    EXPECT_TRUE(t.apply(kOperator, {2}, PowerAction::DisableTurbo));
    EXPECT_EQ(t.get(kBoost), "0\n");
}

// The operator's decision holds until it releases it: the VMs' requests on
// the policy (and on its turbo switch) are refused meanwhile, raises too.
TEST(CpufreqArbiterShared, TheOperatorsHoldWinsUntilReleased) {
    SharedTest t("acpi-cpufreq");
    t.place(kA, {2});
    t.place(kB, {3});
    ASSERT_TRUE(t.apply(kA, {2}, PowerAction::Max));  // held before the operator's
    ASSERT_TRUE(t.apply(kOperator, {2}, PowerAction::Min));
    EXPECT_EQ(t.get(pol(2, "scaling_setspeed")), "800000\n") << "the operator's, not a's max";
    auto up = t.verdict(kB, {3}, PowerAction::Max);
    EXPECT_FALSE(up.applied);
    EXPECT_TRUE(up.held_by_operator);
    EXPECT_NE(up.refusal.find("held by the operator"), std::string::npos) << up.refusal;
    EXPECT_EQ(t.get(pol(2, "scaling_setspeed")), "800000\n");
    auto d = t.arbiter->describe(2);
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->note.starts_with("held by the operator (frequency)")) << d->note;

    ASSERT_TRUE(t.apply(kOperator, {2}, PowerAction::DisableTurbo));
    EXPECT_EQ(t.get(kBoost), "0\n");
    auto on = t.verdict(kA, {2}, PowerAction::EnableTurbo);
    EXPECT_TRUE(on.held_by_operator) << on.refusal;
    EXPECT_EQ(t.get(kBoost), "0\n");

    t.arbiter->releaseHolder(kOperator);
    EXPECT_EQ(t.get(pol(2, "scaling_setspeed")), "3400000\n") << "a's max again";
    EXPECT_TRUE(t.apply(kA, {2}, PowerAction::EnableTurbo));
    EXPECT_EQ(t.get(kBoost), "1\n");
}

TEST(CpufreqArbiterShared, FoundCeilingOfAUserspaceGovernorIsItsSetspeed) {
    SharedTest t("acpi-cpufreq");
    t.fx.write(pol(2, "scaling_governor"), "userspace\n");
    t.fx.write(pol(2, "scaling_setspeed"), "2000000\n");
    t.place(kA, {2});
    t.place(kB, {3});
    EXPECT_FALSE(t.apply(kA, {2}, PowerAction::ScaleDown));  // 1800000 < 2000000
    // Max is above; a ScaleUp from cur 1600000 (1800000) is not.
    EXPECT_FALSE(t.apply(kA, {2}, PowerAction::ScaleUp));
    ASSERT_TRUE(t.apply(kA, {2}, PowerAction::Max));
    auto d = t.arbiter->describe(2);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->found_ceiling_khz, 2000000u);
    EXPECT_EQ(d->applied_khz, 3400000u);
}

TEST(CpufreqArbiterShared, ARefusedRequestKeepsTheRequestersOtherHolds) {
    SharedTest t("intel_pstate");
    t.place(kA, {0, 1});
    t.place(kB, {1});
    ASSERT_TRUE(t.apply(kA, {0}, PowerAction::Min));
    const auto before = t.fx.snapshot();
    EXPECT_FALSE(t.apply(kA, {0, 1}, PowerAction::Min)) << "all or nothing: policy1 is shared";
    EXPECT_EQ(t.fx.snapshot(), before);
    EXPECT_EQ(t.get(pol(0, "scaling_max_freq")), "400000\n");
}
