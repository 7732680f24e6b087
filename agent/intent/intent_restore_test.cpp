// An intent restored after a live migration goes through the same rule
// checks as a guest's record and reaches the PowerControl as Max/Min (a step
// as Max under a ceiling at the step it means here).
#include "intent_restore.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace vmpower {
namespace {

using namespace testing;
using Kind = LevelPosition::Kind;

class IntentRestore : public ::testing::Test {
  protected:
    IntentRestore() {
        guest_.name = "vm1";
        guest_.uuid = kVm1Uuid;
        guest_.vcpus = &vcpus_;
        // vCPU 0 on pCPU 2: five steps there.
        power_.steps[2] = {1000000, 1500000, 2000000, 2500000, 3000000};
    }
    RestoreVerdict restore(unsigned vcpu, VcpuWish wish,
                           std::vector<AccessRule> rules = {allowAll()}) {
        return restoreVcpuWish(AccessRules(std::move(rules)), guest_, vcpu, wish, power_, sharing_);
    }

    VcpuMap vcpus_ = pinnedVcpus(2);
    GuestIdentity guest_;
    FakePowerControl power_;
    FakeSharing sharing_;
};

TEST_F(IntentRestore, EndsAreAskedForAsTheGuestWould) {
    RestoreVerdict v = restore(0, {LevelPosition{Kind::Max, 0, 0}, std::nullopt});
    EXPECT_TRUE(v.applied);
    EXPECT_EQ(v.khz, 3000000u);
    v = restore(1, {LevelPosition{Kind::Min, 0, 0}, true});
    EXPECT_TRUE(v.applied) << v.refusal;
    ASSERT_EQ(power_.calls.size(), 3u);
    EXPECT_EQ(power_.calls[0].action, PowerAction::Max);
    EXPECT_EQ(power_.calls[0].who, Requester::vcpu(kVm1Uuid, 0));
    EXPECT_EQ(power_.calls[0].pcpus, CpuSet{2});
    EXPECT_EQ(power_.calls[1].action, PowerAction::Min);
    EXPECT_EQ(power_.calls[1].pcpus, CpuSet{3});
    EXPECT_EQ(power_.calls[2].action, PowerAction::EnableTurbo);
}

TEST_F(IntentRestore, AStepIsMaxUnderACeilingAtTheStepItMeansHere) {
    // 1 below the top of 3 -> the middle of this host's five, under the
    // rule's own limits (floor kept).
    AccessRule rule = allowAll();
    rule.limits.floor_khz = 1200000;
    RestoreVerdict v = restore(0, {LevelPosition{Kind::Step, 1, 3}, std::nullopt}, {rule});
    EXPECT_TRUE(v.applied);
    // Allowed here: 1.5 2.0 2.5 3.0 GHz; the middle (1.5 of 3 intervals,
    // rounded up to 2 below the top) is 2.0 GHz.
    EXPECT_EQ(v.khz, 2000000u);
    ASSERT_EQ(power_.calls.size(), 1u);
    EXPECT_EQ(power_.calls[0].action, PowerAction::Max);
    EXPECT_EQ(power_.calls[0].limits.ceiling_khz, 2000000u);
    EXPECT_EQ(power_.calls[0].limits.floor_khz, 1200000u);
}

TEST_F(IntentRestore, ThisHostsRuleDecides) {
    // No rule for the VM here.
    RestoreVerdict v = restore(0, {LevelPosition{Kind::Max, 0, 0}, {}}, {allowAll("other*")});
    EXPECT_FALSE(v.applied);
    EXPECT_EQ(v.refusal, "no policy rule matches this VM");
    // The command is not allowed here.
    AccessRule no_max = allowAll();
    no_max.allowed_actions.erase(PowerAction::Max);
    v = restore(0, {LevelPosition{Kind::Max, 0, 0}, {}}, {no_max});
    EXPECT_EQ(v.refusal, "command not allowed by the policy");
    // A step needs up or down.
    AccessRule no_steps = allowAll();
    no_steps.allowed_actions = {PowerAction::Max};
    v = restore(0, {LevelPosition{Kind::Step, 1, 3}, {}}, {no_steps});
    EXPECT_EQ(v.refusal, "command not allowed by the policy");
    // Shared with another VM where the rule forbids it.
    AccessRule not_shared = allowAll();
    not_shared.shared_pcpus = false;
    sharing_.shared = CpuSet{2};
    v = restore(0, {LevelPosition{Kind::Max, 0, 0}, {}}, {not_shared});
    EXPECT_EQ(v.refusal, "pCPUs 2 shared with another VM and shared_pcpus is off");
    // The intent names a vCPU this domain does not have here.
    v = restore(7, {LevelPosition{Kind::Max, 0, 0}, {}});
    EXPECT_EQ(v.refusal, "vCPU 7 out of range (the VM has 2)");
    EXPECT_TRUE(power_.calls.empty());
}

TEST_F(IntentRestore, TheArbitersRefusalIsPassedOn) {
    power_.apply_result = false;
    power_.refusal = "policy2 is shared with vm2, which asked for no frequency";
    RestoreVerdict v = restore(0, {LevelPosition{Kind::Min, 0, 0}, {}});
    EXPECT_FALSE(v.applied);
    EXPECT_EQ(v.refusal,
              "cpufreq refused: policy2 is shared with vm2, which asked for no frequency");
}

}  // namespace
}  // namespace vmpower
