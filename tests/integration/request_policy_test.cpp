// AccessRules keys end to end: multi_pcpu, shared_pcpus, floor_khz/ceiling_khz,
// rate: 0, and a reload (record_format switched; an invalid file ignored).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "request_path_world.h"

namespace vmpower::test {
namespace {

using namespace std::chrono_literals;

TEST_F(RequestPath, MultiPcpuOffRefusesAVcpuOnTwoPcpusOnScalesBothPolicyDomains) {
    // acpi-cpufreq (0->policy0, 1->policy1, 2,3->policy2, all at 1600000).
    // single: vCPU 0 on pCPUs 0 and 2 (policy0, policy2), vCPU 1 on pCPU 0.
    // multi: vCPU 0 on pCPUs 1 and 3 (policy1, policy2).
    // Every VM pins its emulator threads to its own CPUs (<emulatorpin>): a
    // VM whose QEMU threads may run anywhere is a stakeholder of every policy
    // and its neighbours could then only raise (docs/policy.md).
    start("acpi-cpufreq", {{"single", {"0,2", "0"}, -1, "0,2"}, {"multi", {"1,3"}, -1, "1,3"}},
          "  - name: single\n"
          "    multi_pcpu: false\n"
          "  - name: multi\n"
          "    multi_pcpu: true\n");
    for (std::uint32_t unit :
         {VMPOWER_SCALE_UP, VMPOWER_SCALE_MAX, VMPOWER_SCALE_MIN, VMPOWER_DISABLE_TURBO}) {
        SCOPED_TRACE(unitName(unit));
        expectReply("single", 0, cpuPower(0, unit), VMPOWER_CMD_NACK);
        EXPECT_EQ(changed(), std::vector<std::string>{});
    }
    EXPECT_EQ(channel("single", 0).stats().requests.nacked, 4u);
    // Its vCPU on one pCPU is served: the refusal was multi_pcpu's.
    expectReply("single", 1, cpuPower(1, VMPOWER_SCALE_MAX), VMPOWER_CMD_ACK);

    // multi: policy2 is shared with single's vCPU 0, which asks for no
    // frequency there: one step up (1800000, below the found 3400000) is
    // refused on both policy domains, max is a raise and is served on both.
    expectReply("multi", 0, cpuPower(0, VMPOWER_SCALE_UP), VMPOWER_CMD_NACK);
    EXPECT_EQ(changed(), (std::vector<std::string>{kPolicy0 + "scaling_governor",
                                                   kPolicy0 + "scaling_setspeed"}));
    expectReply("multi", 0, cpuPower(0, VMPOWER_SCALE_MAX), VMPOWER_CMD_ACK);
    const Files want{{kPolicy0 + "scaling_governor", "userspace\n"},
                     {kPolicy0 + "scaling_setspeed", "3400000\n"},
                     {kPolicy1 + "scaling_governor", "userspace\n"},
                     {kPolicy1 + "scaling_setspeed", "3400000\n"},
                     {kPolicy2 + "scaling_governor", "userspace\n"},
                     {kPolicy2 + "scaling_setspeed", "3400000\n"}};
    EXPECT_EQ(changed(), keys(want));
    expectFiles(want);

    stopAgent();
    expectTreeAsBefore();
}

TEST_F(RequestPath, SharedPcpusOffRefusesAPcpuAnotherRunningVmIsPinnedTo) {
    // acpi-cpufreq. a and b: vCPU 0 on pCPU 1 (policy1). alone: vCPUs 0
    // and 1 both on pCPU 0 (shared by its own vCPUs only).
    // Every VM pins its emulator threads to its own CPUs (<emulatorpin>): a
    // VM whose QEMU threads may run anywhere is a stakeholder of every policy
    // and its neighbours could then only raise (docs/policy.md).
    start("acpi-cpufreq",
          {{"a", {"1"}, -1, "1"}, {"b", {"1"}, -1, "1"}, {"alone", {"0", "0"}, -1, "0"}},
          "  - name: a\n"
          "    shared_pcpus: false\n"
          "  - name: b\n"
          "    shared_pcpus: true\n"
          "  - name: alone\n"
          "    shared_pcpus: false\n");
    for (std::uint32_t unit : {VMPOWER_SCALE_MAX, VMPOWER_SCALE_DOWN, VMPOWER_ENABLE_TURBO}) {
        SCOPED_TRACE(unitName(unit));
        expectReply("a", 0, cpuPower(0, unit), VMPOWER_CMD_NACK);
        EXPECT_EQ(changed(), std::vector<std::string>{});
    }
    expectReply("b", 0, cpuPower(0, VMPOWER_SCALE_MAX), VMPOWER_CMD_ACK);
    const Files b_max{{kPolicy1 + "scaling_governor", "userspace\n"},
                      {kPolicy1 + "scaling_setspeed", "3400000\n"}};
    EXPECT_EQ(changed(), keys(b_max));
    expectFiles(b_max);
    // a is still refused while b runs; b's level stands.
    expectReply("a", 0, cpuPower(0, VMPOWER_SCALE_MIN), VMPOWER_CMD_NACK);
    expectFiles(b_max);

    // Sharing with one's own vCPUs is not sharing with another VM.
    expectReply("alone", 1, cpuPower(1, VMPOWER_SCALE_MIN), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(kPolicy0 + "scaling_setspeed"), "800000\n");

    // b stops: pCPU 1 is a's alone now, and policy1 is restored (b held it).
    auto dom = lookup(*agent_, "b");
    ASSERT_EQ(virDomainDestroy(dom.get()), 0);
    ASSERT_TRUE(runUntil(*agent_, [&] { return agent_->registry().find(uuids_["b"]) == nullptr; }));
    const Files alone_only{{kPolicy0 + "scaling_governor", "userspace\n"},
                           {kPolicy0 + "scaling_setspeed", "800000\n"}};
    EXPECT_EQ(changed(), keys(alone_only));
    expectReply("a", 0, cpuPower(0, VMPOWER_SCALE_UP), VMPOWER_CMD_ACK);  // 1600000 -> 1800000
    EXPECT_EQ(fixture_->read(kPolicy1 + "scaling_setspeed"), "1800000\n");
    EXPECT_EQ(channel("a", 0).stats().requests.nacked, 4u);
    EXPECT_EQ(channel("a", 0).stats().requests.acked, 1u);

    stopAgent();
    expectTreeAsBefore();
}

// =========================================================================
// AccessRules reload: record_format switched, and an invalid file changes nothing.

TEST_F(RequestPath, ReloadSwitchesRecordFormatAndAnInvalidFileKeepsTheOldRule) {
    // acpi-cpufreq. fmt: vCPU 0 on pCPU 1 (policy1). other: pCPU 0.
    // Every VM pins its emulator threads to its own CPUs (<emulatorpin>): a
    // VM whose QEMU threads may run anywhere is a stakeholder of every policy
    // and its neighbours could then only raise (docs/policy.md).
    start("acpi-cpufreq", {{"fmt", {"1"}, -1, "1"}, {"other", {"0"}, -1, "0"}},
          "  - name: fmt\n"
          "    record_format: dpdk-464\n"
          "  - name: other\n");
    const std::string setspeed1 = kPolicy1 + "scaling_setspeed";
    expectReply("fmt", 0, cpuPower(0, VMPOWER_SCALE_MAX), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(setspeed1), "3400000\n");

    // Half a 464-byte record is in when the format changes: it is dropped
    // (docs/policy.md), not re-cut into 16-byte records.
    const Bytes half = cpuPower(0, VMPOWER_SCALE_MIN);
    ASSERT_TRUE(q("fmt", 0).sendAll(*agent_, Bytes(half.begin(), half.begin() + 100)));
    ASSERT_TRUE(
        runUntil(*agent_, [&] { return channel("fmt", 0).stats().bytes_in == kRecord + 100; }));
    writeConfig(
        "  - name: fmt\n"
        "    record_format: legacy-16\n"
        "  - name: other\n");
    ASSERT_TRUE(agent_->reload());
    {
        SCOPED_TRACE("after the reload to legacy-16");
        const Bytes down = legacy(VMPOWER_CPU_POWER, 0, VMPOWER_SCALE_DOWN);
        const Bytes reply = exchange("fmt", 0, down, VMPOWER_PACKET_V1_SIZE);
        EXPECT_EQ(hex(reply), hex(down)) << "a 16-byte ACK, the request echoed";
        EXPECT_EQ(fixture_->read(setspeed1), "3200000\n");
        // Exactly 16 bytes: the next 16-byte request's reply follows at once.
        const Bytes down2 = legacy(VMPOWER_CPU_POWER, 0, VMPOWER_SCALE_DOWN);
        EXPECT_EQ(hex(exchange("fmt", 0, down2, VMPOWER_PACKET_V1_SIZE)), hex(down2));
        EXPECT_EQ(fixture_->read(setspeed1), "3000000\n");
        EXPECT_TRUE(q("fmt", 0).inbox().empty());
        EXPECT_EQ(channel("fmt", 0).state(), Channel::State::Connected);
        EXPECT_EQ(channel("fmt", 0).stats().requests.records, 3u) << "the half record is no record";
        EXPECT_EQ(channel("fmt", 0).stats().partial_dropped, 1u) << "and it is counted as dropped";
        // The other VM's rule did not change: still 464-byte records.
        expectReply("other", 0, cpuPower(0, VMPOWER_SCALE_MAX), VMPOWER_CMD_ACK);
    }

    // An invalid file (an unknown key) that, were it applied, would deny
    // fmt every command and go back to 464 bytes.
    writeConfig(
        "  - name: fmt\n"
        "    commands: []\n"
        "    colour: red\n");
    EXPECT_FALSE(agent_->reload());
    {
        SCOPED_TRACE("after the rejected reload");
        const Bytes up = legacy(VMPOWER_CPU_POWER, 0, VMPOWER_SCALE_UP);
        EXPECT_EQ(hex(exchange("fmt", 0, up, VMPOWER_PACKET_V1_SIZE)), hex(up));
        EXPECT_EQ(fixture_->read(setspeed1), "3200000\n");
        EXPECT_TRUE(q("fmt", 0).inbox().empty());
        expectReply("other", 0, cpuPower(0, VMPOWER_SCALE_DOWN),
                    VMPOWER_CMD_ACK);  // 3400000 -> 3200000
        EXPECT_EQ(fixture_->read(kPolicy0 + "scaling_setspeed"), "3200000\n");
    }
    EXPECT_EQ(channel("fmt", 0).stats().requests.acked, 4u);
    EXPECT_EQ(channel("fmt", 0).stats().requests.nacked, 0u);

    stopAgent();
    expectTreeAsBefore();
}

// =========================================================================
// floor_khz / ceiling_khz.

TEST_F(RequestPath, CeilingAndFloorBoundMaxAndMinOnTheFrequencyList) {
    // acpi-cpufreq: steps 800000..3400000 every 200000. lim: vCPU 0 on
    // pCPU 1 (policy1), vCPU 1 on pCPU 2 (policy2); free: pCPU 0 (policy0).
    // Every VM pins its emulator threads to its own CPUs (<emulatorpin>): a
    // VM whose QEMU threads may run anywhere is a stakeholder of every policy
    // and its neighbours could then only raise (docs/policy.md).
    start("acpi-cpufreq", {{"lim", {"1", "2"}, -1, "1-2"}, {"free", {"0"}, -1, "0"}},
          "  - name: lim\n"
          "    floor_khz: 1100000\n"
          "    ceiling_khz: 2500000\n"
          "  - name: free\n");
    // max: the highest step <= 2500000 is 2400000.
    expectReply("lim", 0, cpuPower(0, VMPOWER_SCALE_MAX), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(kPolicy1 + "scaling_setspeed"), "2400000\n");
    // min: the lowest step >= 1100000 is 1200000.
    expectReply("lim", 1, cpuPower(1, VMPOWER_SCALE_MIN), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(kPolicy2 + "scaling_setspeed"), "1200000\n");
    // Steps stop at the bounds too.
    expectReply("lim", 0, cpuPower(0, VMPOWER_SCALE_UP), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(kPolicy1 + "scaling_setspeed"), "2400000\n");
    expectReply("lim", 1, cpuPower(1, VMPOWER_SCALE_DOWN), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(kPolicy2 + "scaling_setspeed"), "1200000\n");
    // Without limits, max is the hardware's 3400000.
    expectReply("free", 0, cpuPower(0, VMPOWER_SCALE_MAX), VMPOWER_CMD_ACK);
    const Files want{{kPolicy0 + "scaling_governor", "userspace\n"},
                     {kPolicy0 + "scaling_setspeed", "3400000\n"},
                     {kPolicy1 + "scaling_governor", "userspace\n"},
                     {kPolicy1 + "scaling_setspeed", "2400000\n"},
                     {kPolicy2 + "scaling_governor", "userspace\n"},
                     {kPolicy2 + "scaling_setspeed", "1200000\n"}};
    EXPECT_EQ(changed(), keys(want));
    expectFiles(want);
    stopAgent();
    expectTreeAsBefore();
}

TEST_F(RequestPath, CeilingAndFloorBoundMaxAndMinOnLinearSteps) {
    // intel_pstate: no frequency list, steps of 100000 from 400000 to
    // 4700000; min/max backend (both limits pinned to the level). One
    // policy per CPU. lim: vCPU 0 on pCPU 1, vCPU 1 on pCPU 2.
    start("intel_pstate", {{"lim", {"1", "2"}}},
          "  - name: lim\n"
          "    floor_khz: 1150000\n"
          "    ceiling_khz: 2550000\n");
    expectReply("lim", 0, cpuPower(0, VMPOWER_SCALE_MAX), VMPOWER_CMD_ACK);
    expectReply("lim", 1, cpuPower(1, VMPOWER_SCALE_MIN), VMPOWER_CMD_ACK);
    const Files want{{kPolicy1 + "scaling_max_freq", "2500000\n"},  // was 4700000
                     {kPolicy1 + "scaling_min_freq", "2500000\n"},  // was 400000
                     {kPolicy2 + "scaling_max_freq", "1200000\n"},
                     {kPolicy2 + "scaling_min_freq", "1200000\n"}};
    EXPECT_EQ(changed(), keys(want));
    expectFiles(want);
    stopAgent();
    expectTreeAsBefore();
}

// =========================================================================
// rate: 0 is unlimited.

TEST_F(RequestPath, RateZeroServesABurstOf200WithoutRateLimiting) {
    // acpi-cpufreq: vCPU 0 on pCPU 1 (policy1, 1600000). burst 1 would
    // refuse the second request at once if the rate counted at all.
    start("acpi-cpufreq", {{"fast", {"1"}}},
          "  - name: fast\n"
          "    rate: 0\n"
          "    burst: 1\n");
    constexpr std::size_t kBurst = 200;
    std::size_t acks = 0;
    for (std::size_t i = 0; i < kBurst; ++i) {
        const Bytes req = cpuPower(0, i % 2 == 0 ? VMPOWER_SCALE_UP : VMPOWER_SCALE_DOWN);
        const Bytes reply = exchange("fast", 0, req, kRecord);
        if (reply != req) {
            ADD_FAILURE() << "request " << i << ": " << hex(reply);
            break;
        }
        ++acks;
    }
    EXPECT_EQ(acks, kBurst);
    const auto stats = channel("fast", 0).stats();
    EXPECT_EQ(stats.requests.records, kBurst);
    EXPECT_EQ(stats.requests.acked, kBurst);
    EXPECT_EQ(stats.requests.nacked, 0u);
    EXPECT_EQ(stats.requests.rate_limited, 0u);
    // up, down, ... (an even count): back at 1600000.
    const Files want{{kPolicy1 + "scaling_governor", "userspace\n"},
                     {kPolicy1 + "scaling_setspeed", "1600000\n"}};
    EXPECT_EQ(changed(), keys(want));
    expectFiles(want);
    stopAgent();
    expectTreeAsBefore();
}

}  // namespace
}  // namespace vmpower::test
