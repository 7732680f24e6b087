#include "time_policy.h"

#include <gtest/gtest.h>

#include "policy_test_fakes.h"

namespace vmpower {
namespace {

using testing::busy9Quiet10;
using testing::FakeTraffic;
using testing::SettableWall;

TEST(TimePolicy, TheLocalHourDecides) {
    SettableWall wall;
    const TimePolicy policy(busy9Quiet10(), wall);
    wall.at(8, 59, 59, 900);
    EXPECT_EQ(policy.decide().level, std::nullopt);
    EXPECT_EQ(policy.decide().words, "hour 8 is in no list: holds nothing");
    wall.at(9, 0, 0, 5);
    EXPECT_EQ(policy.decide().level, PolicyLevel::Max);
    EXPECT_EQ(policy.decide().words, "hour 9 is busy: max");
    wall.at(10, 0, 0, 5);
    EXPECT_EQ(policy.decide().level, PolicyLevel::Min);
    EXPECT_EQ(policy.decide().words, "hour 10 is quiet: min");
    wall.at(11, 0, 0, 5);
    EXPECT_EQ(policy.decide().level, std::nullopt);
}

TEST(TimePolicy, WatchesTheHourAndSamplesTrafficOnlyForTrafficHours) {
    SettableWall wall;
    const TimePolicy hours(busy9Quiet10(), wall);
    EXPECT_TRUE(hours.needs().hour);
    EXPECT_FALSE(hours.needs().traffic);
    EXPECT_FALSE(hours.needs().branches);
    EXPECT_TRUE(hours.dueAt({.hour = true}));
    EXPECT_TRUE(hours.dueAt({.traffic = true}));
    EXPECT_FALSE(hours.dueAt({.branches = true}));

    HostPolicy p = busy9Quiet10();
    p.traffic_hours.set(12);
    EXPECT_TRUE(TimePolicy(p, wall).needs().traffic);
}

TEST(TimePolicy, ATrafficHourDecidesByTheRate) {
    SettableWall wall;
    HostPolicy p = busy9Quiet10();
    p.traffic_hours.set(12);
    p.traffic = {10, 1000, 5000};
    TimePolicy policy(p, wall);
    wall.at(12, 30);
    EXPECT_EQ(policy.decide().words,
              "hour 12 uses traffic, no traffic measured yet: holds nothing");
    const auto t0 = Clock::TimePoint{} + std::chrono::seconds(1);
    const std::vector<InterfaceCounters> first{{"vnet0", std::nullopt, 100}};
    const std::vector<InterfaceCounters> second{{"vnet0", std::nullopt, 100 + 6000}};
    policy.takeTraffic(&first, t0);
    policy.takeTraffic(&second, t0 + std::chrono::seconds(1));
    EXPECT_EQ(policy.decide().level, PolicyLevel::Max);
    EXPECT_EQ(policy.decide().words, "hour 12 uses traffic, 6000 packets/s: max");
}

TEST(TimePolicy, NeedsTheHostsClockAndForTrafficHoursTheirSource) {
    SettableWall wall;
    FakeTraffic traffic;
    const GuestIdentity guest{"vm1", "u1", nullptr};
    EXPECT_EQ(startPolicy(busy9Quiet10(), guest, HostPolicyEdges{}, {}).reason(),
              "TIME needs the host's clock");
    HostPolicy p = busy9Quiet10();
    p.traffic_hours.set(12);
    EXPECT_EQ(startPolicy(p, guest, HostPolicyEdges{nullptr, &wall}, {}).reason(),
              "TRAFFIC needs interface statistics and this agent has no source for them");
    EXPECT_TRUE(startPolicy(p, guest, HostPolicyEdges{nullptr, &wall, &traffic}, {}).ok());
}

}  // namespace
}  // namespace vmpower
