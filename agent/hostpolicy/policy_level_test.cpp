#include "policy_level.h"

#include <gtest/gtest.h>

namespace vmpower {
namespace {

TEST(PolicyLevel, BusyWinsOverQuietOverTraffic) {
    HostPolicy p;
    p.type = HostPolicyType::Time;
    p.busy_hours.set(9);
    p.quiet_hours.set(9).set(2);
    p.traffic_hours.set(2).set(14);
    EXPECT_EQ(hourUse(p, 9), HourUse::Busy);
    EXPECT_EQ(hourUse(p, 2), HourUse::Quiet);
    EXPECT_EQ(hourUse(p, 14), HourUse::Traffic);
    EXPECT_EQ(hourUse(p, 15), HourUse::Unlisted);
    EXPECT_EQ(hourUse(p, 24), HourUse::Unlisted);
}

TEST(PolicyLevel, WorkloadAndTrafficBands) {
    EXPECT_EQ(workloadLevel(Workload::High), PolicyLevel::Max);
    EXPECT_EQ(workloadLevel(Workload::Medium), PolicyLevel::Middle);
    EXPECT_EQ(workloadLevel(Workload::Low), PolicyLevel::Min);
    const TrafficThresholds t{100, 1000, 5000};
    EXPECT_EQ(trafficLevel(0, t), PolicyLevel::Min);
    EXPECT_EQ(trafficLevel(999.9, t), PolicyLevel::Min);
    EXPECT_EQ(trafficLevel(1000, t), PolicyLevel::Middle);
    EXPECT_EQ(trafficLevel(4999, t), PolicyLevel::Middle);
    EXPECT_EQ(trafficLevel(5000, t), PolicyLevel::Max);
}

TEST(PolicyLevel, BranchRatioChangesOnlyAfterEnoughSamplesOnTheOtherSide) {
    BranchHysteresis h(0.1, 3);
    EXPECT_EQ(h.feed(0.5), PolicyLevel::Min);
    EXPECT_EQ(h.feed(0.5), PolicyLevel::Min);
    EXPECT_EQ(h.feed(0.05), PolicyLevel::Min);  // the streak is broken
    EXPECT_EQ(h.feed(0.2), PolicyLevel::Min);
    EXPECT_EQ(h.feed(0.2), PolicyLevel::Min);
    EXPECT_EQ(h.feed(0.2), PolicyLevel::Max);
    EXPECT_EQ(h.feed(0.1), PolicyLevel::Max);  // at the threshold is "below"
    EXPECT_EQ(h.feed(0.11), PolicyLevel::Max);
    EXPECT_EQ(h.feed(0.0), PolicyLevel::Max);
    EXPECT_EQ(h.feed(0.0), PolicyLevel::Max);
    EXPECT_EQ(h.feed(0.0), PolicyLevel::Min);
}

}  // namespace
}  // namespace vmpower
