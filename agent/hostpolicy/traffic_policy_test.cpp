#include "traffic_policy.h"

#include <gtest/gtest.h>

#include "policy_test_fakes.h"

namespace vmpower {
namespace {

using namespace std::chrono;

HostPolicy trafficPolicy() {
    HostPolicy p;
    p.type = HostPolicyType::Traffic;
    p.vcpus = {0};
    p.traffic = {10, 1000, 5000};
    p.macs = {*parseMac("52:54:00:00:00:01")};
    return p;
}

TEST(TrafficPolicy, TheRateOfTheSelectedInterfacesDecidesOnceTwoSamplesExist) {
    TrafficPolicy policy(trafficPolicy());
    EXPECT_EQ(policy.decide().level, std::nullopt);
    EXPECT_EQ(policy.decide().words, "no traffic measured yet: holds nothing");

    Clock::TimePoint at{};
    std::vector<InterfaceCounters> counters;
    auto sample = [&](std::uint64_t selected, std::uint64_t other, seconds after) {
        at += after;
        counters = {InterfaceCounters{"vnet0", parseMac("52:54:00:00:00:01"), selected},
                    InterfaceCounters{"vnet1", parseMac("52:54:00:00:00:02"), other}};
        policy.takeTraffic(&counters, at);
    };
    sample(100, 0, seconds(1));
    EXPECT_EQ(policy.decide().level, std::nullopt) << "one sample is no rate";
    sample(100 + 2 * 2000, 1'000'000, seconds(2));  // 2000/s on the selected one; the other ignored
    EXPECT_EQ(policy.decide().level, PolicyLevel::Middle);
    EXPECT_EQ(policy.decide().words, "2000 packets/s: middle");
    sample(4100 + 6000, 0, seconds(1));
    EXPECT_EQ(policy.decide().level, PolicyLevel::Max);
    sample(10100 + 5, 0, seconds(1));
    EXPECT_EQ(policy.decide().level, PolicyLevel::Min);

    policy.takeTraffic(nullptr, at + seconds(1));  // the VM is not in the answer
    EXPECT_EQ(policy.decide().level, std::nullopt);
}

TEST(TrafficPolicy, SamplesOnTheTrafficIntervalAndNeedsASource) {
    const TrafficPolicy policy(trafficPolicy());
    EXPECT_TRUE(policy.needs().traffic);
    EXPECT_FALSE(policy.needs().hour || policy.needs().branches);
    EXPECT_TRUE(policy.dueAt({.traffic = true}));
    EXPECT_FALSE(policy.dueAt({.hour = true, .branches = true}));

    testing::FakeTraffic traffic;
    const GuestIdentity guest{"vm1", "u1", nullptr};
    EXPECT_EQ(startPolicy(trafficPolicy(), guest, HostPolicyEdges{}, {}).reason(),
              "TRAFFIC needs interface statistics and this agent has no source for them");
    EXPECT_TRUE(startPolicy(trafficPolicy(), guest, HostPolicyEdges{.traffic = &traffic}, {}).ok());
}

}  // namespace
}  // namespace vmpower
