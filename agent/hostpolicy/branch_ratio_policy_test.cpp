#include "branch_ratio_policy.h"

#include <gtest/gtest.h>

#include "policy_test_fakes.h"

namespace vmpower {
namespace {

using testing::FakeBranches;

HostPolicy branchPolicy() {
    HostPolicy p;
    p.type = HostPolicyType::BranchRatio;
    p.vcpus = {0, 1};
    return p;
}

const GuestIdentity kGuest{"vm1", "u1", nullptr};
const HostPolicySettings kSettings{std::chrono::seconds(1), std::chrono::milliseconds(100), 0.1, 2};

TEST(BranchRatioPolicy, IsRefusedWithoutCountersOrWithTheSourcesReason) {
    EXPECT_EQ(startPolicy(branchPolicy(), kGuest, HostPolicyEdges{}, kSettings).reason(),
              "BRANCH_RATIO needs branch counters (none here)");
    FakeBranches branches;
    branches.refusal = "perf events are not available here";
    EXPECT_EQ(startPolicy(branchPolicy(), kGuest, HostPolicyEdges{.branches = &branches}, kSettings)
                  .reason(),
              "BRANCH_RATIO: perf events are not available here");
    branches.refusal.clear();
    EXPECT_TRUE(
        startPolicy(branchPolicy(), kGuest, HostPolicyEdges{.branches = &branches}, kSettings)
            .ok());
    EXPECT_EQ(branches.opened, (std::vector<unsigned>{0, 1}));
}

TEST(BranchRatioPolicy, FollowsTheRatioWithHysteresisAndClosesOnStop) {
    FakeBranches branches;
    BranchRatioPolicy policy(branches, kGuest.uuid, kSettings);
    EXPECT_TRUE(policy.needs().branches);
    EXPECT_FALSE(policy.needs().hour || policy.needs().traffic);
    EXPECT_TRUE(policy.dueAt({.branches = true}));
    EXPECT_FALSE(policy.dueAt({.hour = true, .traffic = true}));

    std::uint64_t total = 0, misses = 0;
    auto tick = [&](std::uint64_t b, std::uint64_t m) {
        total += b;
        misses += m;
        branches.counts = BranchCounts{total, misses};
        policy.readBranches();
        return policy.decide();
    };
    EXPECT_EQ(tick(0, 0).words, "no branch ratio measured yet: holds nothing");  // the baseline
    const PolicyDecision low = tick(1000, 50);
    EXPECT_EQ(low.level, PolicyLevel::Min);
    EXPECT_EQ(low.words, "branch misses/branches 0.0500 (threshold 0.1): min");
    EXPECT_EQ(tick(1000, 300).level, PolicyLevel::Min) << "once: not yet (hysteresis of 2)";
    EXPECT_EQ(tick(1000, 300).level, PolicyLevel::Max);

    policy.stop();
    EXPECT_EQ(branches.closed, 1);
}

}  // namespace
}  // namespace vmpower
