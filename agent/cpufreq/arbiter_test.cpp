#include "arbiter.h"

#include <gtest/gtest.h>

#include <tuple>

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
const Requester kA = Requester::vcpu("aaaaaaaa-0000-0000-0000-000000000001", 0);
const Requester kB = Requester::vcpu("bbbbbbbb-0000-0000-0000-000000000002", 0);

struct ArbiterTest {
    // `isolated`: written to devices/system/cpu/isolated first (the host's
    // CPUs default to the others); `host`: agent.host_cpus, by default ""
    // (a host that keeps no CPU: most cases here are about VMs only);
    // nullopt: the default from `isolated`.
    explicit ArbiterTest(const char* driver, std::uint32_t step_khz = 0,
                         const char* isolated = nullptr, std::optional<CpuSet> host = CpuSet{})
        : fx(driver) {
        if (isolated) fx.write("devices/system/cpu/isolated", isolated);
        CpufreqOptions o;
        o.sysfs_root = fx.root();
        o.state_dir = fx.scratch("state");
        o.proc_root = fx.scratch("proc");
        o.step_khz = step_khz;
        o.host_cpus = std::move(host);
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
