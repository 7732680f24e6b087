#include "policy_record.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <vector>

#include "vmpower/protocol.h"

namespace vmpower {
namespace {

// A PKT_POLICY record as DPDK's guest builds one: zeroed, then filled.
std::vector<std::byte> policyRecord(const std::function<void(vmpower_packet&)>& fill) {
    vmpower_packet p;
    std::memset(&p, 0, sizeof p);
    p.command = VMPOWER_PKT_POLICY;
    p.num_vcpu = 1;
    fill(p);
    std::vector<std::byte> out(sizeof p);
    std::memcpy(out.data(), &p, sizeof p);
    return out;
}

TEST(PolicyRecord, WorkloadHighOnTwoVcpus) {
    auto r = decodePolicyRecord(policyRecord([](vmpower_packet& p) {
                                    p.policy_to_use = 2;
                                    p.workload = 0;
                                    p.num_vcpu = 2;
                                    p.vcpu_to_control[0] = 3;
                                    p.vcpu_to_control[1] = 1;
                                    std::memcpy(p.vm_name, "someone-else", 12);
                                }),
                                4);
    ASSERT_TRUE(r.policy) << r.refusal;
    EXPECT_EQ(r.policy->type, HostPolicyType::Workload);
    EXPECT_EQ(r.policy->workload, Workload::High);
    EXPECT_EQ(r.policy->vcpus, (std::vector<unsigned>{3, 1}));
}

TEST(PolicyRecord, TimeReadsTheThreeHourLists) {
    // DPDK's guest_cli defaults: busy 3-5, quiet 11-13, traffic 8 and 10;
    // the rest of each array is 0, which is midnight (as in DPDK).
    auto r = decodePolicyRecord(policyRecord([](vmpower_packet& p) {
                                    p.policy_to_use = 1;
                                    p.timer_policy.busy_hours[0] = 3;
                                    p.timer_policy.busy_hours[1] = 4;
                                    p.timer_policy.busy_hours[2] = 5;
                                    p.timer_policy.quiet_hours[0] = 11;
                                    for (int i = 1; i < VMPOWER_HOURS; ++i)
                                        p.timer_policy.quiet_hours[i] = -1;
                                    for (int& h : p.timer_policy.hours_to_use_traffic_profile)
                                        h = -1;
                                    p.traffic_policy.avg_max_packet_thresh = 10;
                                    p.traffic_policy.max_max_packet_thresh = 5;  // unused here
                                }),
                                1);
    ASSERT_TRUE(r.policy) << r.refusal;
    EXPECT_EQ(r.policy->busy_hours, HourSet(0b111001));
    EXPECT_EQ(r.policy->quiet_hours, HourSet(1 << 11));
    EXPECT_TRUE(r.policy->traffic_hours.none());
}

TEST(PolicyRecord, TrafficThresholdsAndMacs) {
    auto r = decodePolicyRecord(policyRecord([](vmpower_packet& p) {
                                    p.policy_to_use = 0;
                                    p.traffic_policy = {96000, 1800000, 2000000};
                                    p.nb_mac_to_monitor = 1;
                                    // 52:54:00:12:34:56 as DPDK's union packs it, junk above.
                                    p.vfid[0] = 0xbeef'5634'1200'5452ULL;
                                    p.vfid[1] = 7;  // beyond nb_mac_to_monitor
                                }),
                                1);
    ASSERT_TRUE(r.policy) << r.refusal;
    EXPECT_EQ(r.policy->traffic, (TrafficThresholds{96000, 1800000, 2000000}));
    ASSERT_EQ(r.policy->macs.size(), 1u);
    EXPECT_EQ(macText(r.policy->macs[0]), "52:54:00:12:34:56");
    EXPECT_EQ(parseMac("52:54:00:12:34:56"), r.policy->macs[0]);
}

TEST(PolicyRecord, RefusesWhatIsOutOfBounds) {
    struct Case {
        const char* what;
        std::function<void(vmpower_packet&)> fill;
        const char* refusal;
    };
    const Case cases[] = {
        {"type", [](vmpower_packet& p) { p.policy_to_use = 4; }, "policy_to_use 4 is unknown"},
        {"negative type", [](vmpower_packet& p) { p.policy_to_use = -1; },
         "policy_to_use -1 is unknown"},
        {"workload",
         [](vmpower_packet& p) {
             p.policy_to_use = 2;
             p.workload = 3;
         },
         "workload 3 is unknown"},
        {"no vcpu",
         [](vmpower_packet& p) {
             p.policy_to_use = 2;
             p.num_vcpu = 0;
         },
         "num_vcpu 0 is not 1-8"},
        {"num_vcpu past the array",
         [](vmpower_packet& p) {
             p.policy_to_use = 2;
             p.num_vcpu = 9;
         },
         "num_vcpu 9 is not 1-8"},
        {"vcpu out of range",
         [](vmpower_packet& p) {
             p.policy_to_use = 2;
             p.num_vcpu = 2;
             p.vcpu_to_control[1] = 2;
         },
         "vcpu_to_control[1] = vCPU 2 out of range (the VM has 2)"},
        {"vcpu twice",
         [](vmpower_packet& p) {
             p.policy_to_use = 2;
             p.num_vcpu = 2;
         },
         "vcpu_to_control names vCPU 0 twice"},
        {"hour",
         [](vmpower_packet& p) {
             p.policy_to_use = 1;
             p.timer_policy.quiet_hours[5] = 24;
         },
         "quiet_hours[5] = 24 is not an hour (0-23, negative for unused)"},
        {"thresholds",
         [](vmpower_packet& p) {
             p.policy_to_use = 0;
             p.traffic_policy = {0, 10, 9};
         },
         "avg_max_packet_thresh 10 is above max_max_packet_thresh 9"},
        {"macs",
         [](vmpower_packet& p) {
             p.policy_to_use = 0;
             p.nb_mac_to_monitor = 11;
         },
         "nb_mac_to_monitor 11 is not 0-10"},
    };
    for (const auto& c : cases) {
        auto r = decodePolicyRecord(policyRecord(c.fill), 2);
        EXPECT_FALSE(r.policy) << c.what;
        EXPECT_EQ(r.refusal, c.refusal) << c.what;
    }
    EXPECT_EQ(decodePolicyRecord(std::vector<std::byte>(16), 2).refusal,
              "policies need 464-byte records");
}

}  // namespace
}  // namespace vmpower
