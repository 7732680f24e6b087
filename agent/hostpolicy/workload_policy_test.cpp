#include "workload_policy.h"

#include <gtest/gtest.h>

namespace vmpower {
namespace {

TEST(WorkloadPolicy, HighMediumLowAreMaxMiddleMinDecidedOnce) {
    const PolicyDecision high = WorkloadPolicy(Workload::High).decide();
    EXPECT_EQ(high.level, PolicyLevel::Max);
    EXPECT_EQ(high.words, "workload high: max");
    EXPECT_EQ(WorkloadPolicy(Workload::Medium).decide().level, PolicyLevel::Middle);
    EXPECT_EQ(WorkloadPolicy(Workload::Medium).decide().words, "workload medium: middle");
    EXPECT_EQ(WorkloadPolicy(Workload::Low).decide().level, PolicyLevel::Min);

    const WorkloadPolicy p(Workload::High);
    const PolicyWakeups needs = p.needs();
    EXPECT_FALSE(needs.hour || needs.traffic || needs.branches) << "WORKLOAD needs no timer";
    EXPECT_FALSE(p.dueAt({.hour = true, .traffic = true, .branches = true}));
}

TEST(WorkloadPolicy, StartsWithoutAnySource) {
    HostPolicy p;
    p.type = HostPolicyType::Workload;
    p.workload = Workload::Medium;
    p.vcpus = {0};
    auto running = startPolicy(p, GuestIdentity{"vm1", "u1", nullptr}, HostPolicyEdges{}, {});
    ASSERT_TRUE(running.ok());
    EXPECT_EQ((*running)->decide().level, PolicyLevel::Middle);
}

}  // namespace
}  // namespace vmpower
