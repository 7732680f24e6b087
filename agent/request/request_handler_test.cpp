#include "request_handler.h"

#include <gtest/gtest.h>

#include "log_capture.h"
#include "power_decision.h"
#include "test_support.h"

namespace vmpower {
namespace {

using namespace vmpower::testing;

TEST(RequestHandler, EachUnitAppliesItsActionToThePinnedPcpu) {
    const std::pair<std::uint32_t, PowerAction> units[] = {
        {1, PowerAction::ScaleUp}, {2, PowerAction::ScaleDown},   {3, PowerAction::Max},
        {4, PowerAction::Min},     {5, PowerAction::EnableTurbo}, {6, PowerAction::DisableTurbo}};
    HandlerRig rig;
    for (auto [unit, action] : units) {
        auto req = packet(VMPOWER_CPU_POWER, unit, 1);
        auto reply = rig.send(req);
        EXPECT_EQ(reply, req) << "ACK is the request echoed, command 1";
        ASSERT_FALSE(rig.power.calls.empty());
        const PowerCall& c = rig.power.calls.back();
        EXPECT_EQ(c.action, action);
        EXPECT_EQ(c.pcpus, CpuSet{3});
        EXPECT_EQ(c.who, Requester::vcpu(kVm1Uuid, 1));
    }
    EXPECT_EQ(rig.power.calls.size(), 6U);
    EXPECT_EQ(rig.counters().acked, 6U);
}

TEST(RequestHandler, LimitsComeFromTheRule) {
    AccessRule rule = allowAll();
    rule.limits = {1000000, 2000000};
    HandlerRig rig(rule);
    rig.send(packet(1, 3, 0));
    ASSERT_EQ(rig.power.calls.size(), 1U);
    EXPECT_EQ(rig.power.calls[0].limits.floor_khz, 1000000U);
    EXPECT_EQ(rig.power.calls[0].limits.ceiling_khz, 2000000U);
}

TEST(RequestHandler, CommandNotAllowedIsNackedUntouched) {
    AccessRule rule = allowAll();
    rule.allowed_actions = {PowerAction::ScaleDown};
    HandlerRig rig(rule);
    auto reply = rig.send(packet(1, VMPOWER_SCALE_UP, 0));
    EXPECT_EQ(replyCommand(reply), VMPOWER_CMD_NACK);
    EXPECT_TRUE(rig.power.calls.empty());
    EXPECT_EQ(replyCommand(rig.send(packet(1, VMPOWER_SCALE_DOWN, 0))), VMPOWER_CMD_ACK);
}

TEST(RequestHandler, UnmatchedVmIsDenied) {
    HandlerRig rig(allowAll("dpdk-*"));
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 0))), VMPOWER_CMD_NACK);
    auto q = rig.send(packet(VMPOWER_QUERY_FREQ_LIST, 0, 0));
    EXPECT_EQ(q.size(), 88U);
    EXPECT_EQ(replyCommand(q), VMPOWER_CMD_NACK);
    EXPECT_TRUE(rig.power.calls.empty());
}

TEST(RequestHandler, RuleMatchedByUuid) {
    AccessRule rule;
    rule.uuids = {kVm1Uuid};
    HandlerRig rig(rule);
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 0))), VMPOWER_CMD_ACK);
}

TEST(RequestHandler, TheRuleIsMatchedAgainForANewPolicyOrAnotherGuest) {
    // The channel keeps its matched rule between requests; a new policy (a
    // reload, an operator's override) or another identity matches afresh.
    AccessRule vm1 = allowAll("vm1");
    HandlerRig rig(vm1);
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 0))), VMPOWER_CMD_ACK);
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 0))), VMPOWER_CMD_ACK);
    rig.guest.name = "vm2";
    rig.guest.uuid = "6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4f";
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 0))), VMPOWER_CMD_NACK);  // no rule for vm2
    rig.guest.name = "vm1";
    rig.guest.uuid = kVm1Uuid;
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 0))), VMPOWER_CMD_ACK);
    auto queries_off = std::make_shared<const AccessRules>(
        AccessRules(std::vector<AccessRule>{vm1}).withQueryOverride("vm1", kVm1Uuid, false));
    EXPECT_EQ(rig.send(packet(VMPOWER_QUERY_FREQ_LIST, 0, 0)).size(), 88U);
    rig.rules.replace(queries_off);
    EXPECT_EQ(replyCommand(rig.send(packet(VMPOWER_QUERY_FREQ_LIST, 0, 0))), VMPOWER_CMD_NACK);
    EXPECT_EQ(rig.power.calls.size(), 3U);
}

TEST(RequestHandler, ExplicitAllowedPcpus) {
    AccessRule rule = allowAll();
    rule.allowed_pcpus = CpuSet{2, 3};
    HandlerRig rig(rule);
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 1))), VMPOWER_CMD_ACK);   // pCPU 3
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 2))), VMPOWER_CMD_NACK);  // pCPU 4
    EXPECT_EQ(rig.power.calls.size(), 1U);
}

TEST(RequestHandler, VcpuPinnedToSeveralPcpus) {
    HandlerRig rig;
    rig.vcpus.setPcpus(0, CpuSet{2, 3, 6});
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 0))), VMPOWER_CMD_ACK);
    ASSERT_EQ(rig.power.calls.size(), 1U);
    EXPECT_EQ(rig.power.calls[0].pcpus, (CpuSet{2, 3, 6}));

    AccessRule single = allowAll();
    single.multi_pcpu = false;
    rig.rules.replace(std::make_shared<const AccessRules>(std::vector<AccessRule>{single}));
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 0))), VMPOWER_CMD_NACK);
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 1))), VMPOWER_CMD_ACK);
    EXPECT_EQ(rig.power.calls.size(), 2U);
}

TEST(RequestHandler, SharedPcpus) {
    HandlerRig rig;
    rig.sharing.shared = CpuSet{2};
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 0))), VMPOWER_CMD_ACK)
        << "default: allowed, arbitrated";
    AccessRule exclusive = allowAll();
    exclusive.shared_pcpus = false;
    rig.rules.replace(std::make_shared<const AccessRules>(std::vector<AccessRule>{exclusive}));
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 0))), VMPOWER_CMD_NACK);
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 1))), VMPOWER_CMD_ACK);  // pCPU 3 not shared
    EXPECT_EQ(rig.power.calls.size(), 2U);
}

TEST(RequestHandler, PowerControlFailureIsNack) {
    HandlerRig rig;
    rig.power.apply_result = false;
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 0))), VMPOWER_CMD_NACK);
}

TEST(RequestHandler, PhysicalWithPermission) {
    AccessRule rule = allowAll();
    rule.physical_addressing = true;
    HandlerRig rig(rule);
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 5, "", true))), VMPOWER_CMD_ACK);
    ASSERT_EQ(rig.power.calls.size(), 1U);
    EXPECT_EQ(rig.power.calls[0].pcpus, CpuSet{5});
    EXPECT_EQ(rig.power.calls[0].who, Requester::physical(kVm1Uuid, 5));
    // Still only within the VM's pCPUs (2-5 pinned).
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 9, "", true))), VMPOWER_CMD_NACK);
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, std::uint64_t{1} << 40, "", true))),
              VMPOWER_CMD_NACK);
    rule.allowed_pcpus = CpuSet::parse("0-15");
    rig.rules.replace(std::make_shared<const AccessRules>(std::vector<AccessRule>{rule}));
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 9, "", true))), VMPOWER_CMD_ACK);
    EXPECT_EQ(rig.power.calls.size(), 2U);
}

TEST(RequestHandler, WithoutAPolicyEnginePolicyIsNackedAndRemoveUnanswered) {
    HandlerRig rig;
    auto reply = rig.send(packet(VMPOWER_PKT_POLICY, 0, 0, "vm1"));
    ASSERT_EQ(reply.size(), 464U);
    EXPECT_EQ(replyCommand(reply), VMPOWER_CMD_NACK);
    // DPDK answers no REMOVE, so a refused one gets no reply either.
    EXPECT_TRUE(rig.send(packet(VMPOWER_PKT_POLICY_REMOVE, 0, 0, "vm1")).empty());
    EXPECT_TRUE(rig.power.calls.empty());
}

TEST(RequestHandler, QueryFreqList) {
    HandlerRig rig;
    rig.power.khz = {{2, 1200000}, {3, 2400000}, {5, 800000}, {7, 800000}};  // 4: no cpufreq
    rig.vcpus.setPcpus(3, CpuSet{5, 7});  // both at one frequency: that one
    auto r = rig.send(packet(VMPOWER_QUERY_FREQ_LIST, 0, 0, "vm1"));
    ASSERT_EQ(r.size(), 88U);
    EXPECT_EQ(replyCommand(r), VMPOWER_FREQ_LIST);
    EXPECT_EQ(fieldAt<std::uint8_t>(r, 80), 4U);
    EXPECT_EQ(fieldAt<std::uint32_t>(r, 48), 1200000U);
    EXPECT_EQ(fieldAt<std::uint32_t>(r, 52), 2400000U);
    EXPECT_EQ(fieldAt<std::uint32_t>(r, 56), 0U);
    EXPECT_EQ(fieldAt<std::uint32_t>(r, 60), 800000U);
    for (std::size_t i = 64; i < 80; ++i) EXPECT_EQ(r[i], std::byte{0});
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(r.data() + 16)), "vm1");
    EXPECT_TRUE(rig.power.calls.empty());
    EXPECT_EQ(rig.counters().answered, 1U);
}

TEST(RequestHandler, QueryListCappedAtEightVcpus) {
    HandlerRig rig;
    rig.vcpus = pinnedVcpus(12);
    for (unsigned p = 0; p < 16; ++p) rig.power.khz[p] = 1000 * (p + 1);
    auto r = rig.send(packet(VMPOWER_QUERY_FREQ_LIST, 0, 0));
    EXPECT_EQ(fieldAt<std::uint8_t>(r, 80), 8U);
    for (std::size_t i = 0; i < 8; ++i)
        EXPECT_EQ(fieldAt<std::uint32_t>(r, 48 + 4 * i), 1000 * (i + 3));
    auto one = rig.send(packet(VMPOWER_QUERY_FREQ, 0, 9));
    EXPECT_EQ(one.size(), 88U);
    EXPECT_EQ(replyCommand(one), VMPOWER_CMD_NACK) << "vCPU 9 has no slot in an 8-entry reply";
}

TEST(RequestHandler, QueryFreqFillsOnlyItsSlot) {
    HandlerRig rig;
    rig.power.khz = {{2, 1}, {3, 2}, {4, 3}, {5, 4}};
    auto r = rig.send(packet(VMPOWER_QUERY_FREQ, 0, 2));
    ASSERT_EQ(r.size(), 88U);
    EXPECT_EQ(replyCommand(r), VMPOWER_FREQ_LIST);
    EXPECT_EQ(fieldAt<std::uint64_t>(r, 0), 2U);
    EXPECT_EQ(fieldAt<std::uint8_t>(r, 80), 4U);
    for (std::size_t i = 0; i < 8; ++i)
        EXPECT_EQ(fieldAt<std::uint32_t>(r, 48 + 4 * i), i == 2 ? 3U : 0U);
    auto out = rig.send(packet(VMPOWER_QUERY_FREQ, 0, 4));
    EXPECT_EQ(out.size(), 88U);
    EXPECT_EQ(replyCommand(out), VMPOWER_CMD_NACK);
}

// An unpinned vCPU (affinity: every host CPU) is answered from all of its
// CPUs, never from host CPU 0 alone (issue 25).
TEST(RequestHandler, QueryForAnUnpinnedVcpuAnswersFromItsWholeAffinity) {
    HandlerRig rig;
    for (unsigned p = 0; p < 8; ++p) rig.power.khz[p] = 2000000;
    rig.power.khz[0] = 800000;  // host CPU 0 is slower than the rest
    rig.vcpus.setPcpus(1, CpuSet{0, 1, 2, 3, 4, 5, 6, 7});
    rig.vcpus.setPcpus(2, CpuSet{4, 5, 6, 7});
    auto list = rig.send(packet(VMPOWER_QUERY_FREQ_LIST, 0, 0));
    ASSERT_EQ(replyCommand(list), VMPOWER_FREQ_LIST);
    EXPECT_EQ(fieldAt<std::uint32_t>(list, 48 + 4), 0U) << "not at one frequency: unknown";
    EXPECT_EQ(fieldAt<std::uint32_t>(list, 48 + 8), 2000000U) << "all of 4-7 at one frequency";
    test::LogCapture log;
    auto one = rig.send(packet(VMPOWER_QUERY_FREQ, 0, 1));
    ASSERT_EQ(one.size(), 88U);
    EXPECT_EQ(replyCommand(one), VMPOWER_CMD_NACK);
    EXPECT_EQ(log.linesWith({"vCPU 1 may run on CPUs 0-7, which are not at one frequency"}).size(),
              1U)
        << log.lines().size();
    EXPECT_EQ(replyCommand(rig.send(packet(VMPOWER_QUERY_FREQ, 0, 2))), VMPOWER_FREQ_LIST);
    rig.power.khz[0] = 2000000;
    auto same = rig.send(packet(VMPOWER_QUERY_FREQ, 0, 1));
    ASSERT_EQ(replyCommand(same), VMPOWER_FREQ_LIST);
    EXPECT_EQ(fieldAt<std::uint32_t>(same, 48 + 4), 2000000U);

    // Capabilities: only what every CPU of the set has.
    rig.power.turbo = {0, 4, 5, 6, 7};
    rig.power.priority = {0};
    auto caps = rig.send(packet(VMPOWER_QUERY_CAPS_LIST, 0, 0));
    ASSERT_EQ(replyCommand(caps), VMPOWER_CAPS_LIST);
    EXPECT_EQ(fieldAt<std::uint64_t>(caps, 48 + 8 * 1), 0U) << "CPUs 1-3 have no turbo";
    EXPECT_EQ(fieldAt<std::uint64_t>(caps, 48 + 8 * 2), 1U);
    EXPECT_EQ(fieldAt<std::uint64_t>(caps, 112 + 8 * 1), 0U) << "CPU 0's priority is not its";
}

TEST(RequestHandler, QueryCaps) {
    HandlerRig rig;
    rig.power.turbo = {2, 4};
    rig.power.priority = {5};
    auto r = rig.send(packet(VMPOWER_QUERY_CAPS_LIST, 0, 0));
    ASSERT_EQ(r.size(), 184U);
    EXPECT_EQ(replyCommand(r), VMPOWER_CAPS_LIST);
    EXPECT_EQ(fieldAt<std::uint8_t>(r, 176), 4U);
    const std::uint64_t turbo[] = {1, 0, 1, 0}, prio[] = {0, 0, 0, 1};
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(fieldAt<std::uint64_t>(r, 48 + 8 * i), turbo[i]);
        EXPECT_EQ(fieldAt<std::uint64_t>(r, 112 + 8 * i), prio[i]);
    }
    auto one = rig.send(packet(VMPOWER_QUERY_CAPS, 0, 3));
    ASSERT_EQ(one.size(), 184U);
    EXPECT_EQ(fieldAt<std::uint64_t>(one, 48 + 8 * 2), 0U) << "only [3] is filled";
    EXPECT_EQ(fieldAt<std::uint64_t>(one, 112 + 8 * 3), 1U);
}

TEST(RequestHandler, QueriesNotAllowedNackInTheReplySize) {
    AccessRule rule = allowAll();
    rule.queries = false;
    HandlerRig rig(rule);
    rig.power.khz = {{2, 1000000}};
    for (auto [cmd, size] : {std::pair{VMPOWER_QUERY_FREQ_LIST, 88U},
                             {VMPOWER_QUERY_FREQ, 88U},
                             {VMPOWER_QUERY_CAPS_LIST, 184U},
                             {VMPOWER_QUERY_CAPS, 184U}}) {
        auto r = rig.send(packet(cmd, 0, 0, "vm1"));
        ASSERT_EQ(r.size(), size) << cmd;
        EXPECT_EQ(replyCommand(r), VMPOWER_CMD_NACK);
        for (std::size_t i = 48; i < size; ++i)
            ASSERT_EQ(r[i], std::byte{0}) << "no data in a NACK";
    }
}

TEST(RequestHandler, Legacy16Records) {
    HandlerRig rig;
    auto req = legacyPacket(VMPOWER_CPU_POWER, VMPOWER_SCALE_MAX, 2);
    EXPECT_EQ(rig.send(req), req);
    ASSERT_EQ(rig.power.calls.size(), 1U);
    EXPECT_EQ(rig.power.calls[0].pcpus, CpuSet{4});
    EXPECT_EQ(rig.power.calls[0].action, PowerAction::Max);
    auto nack = rig.send(legacyPacket(VMPOWER_CPU_POWER, 9, 2));
    ASSERT_EQ(nack.size(), 16U);
    EXPECT_EQ(replyCommand(nack), VMPOWER_CMD_NACK);
    auto q = rig.send(legacyPacket(VMPOWER_QUERY_FREQ_LIST, 0, 0));
    ASSERT_EQ(q.size(), 16U);
    EXPECT_EQ(replyCommand(q), VMPOWER_CMD_NACK);
    EXPECT_TRUE(rig.send(legacyPacket(VMPOWER_CPU_POWER_CONNECT, 0, 0)).empty());
}

TEST(RequestHandler, ReloadedPolicyAppliesToTheNextRecord) {
    HandlerRig rig;
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 0))), VMPOWER_CMD_ACK);
    rig.rules.replace(std::make_shared<const AccessRules>(std::vector<AccessRule>{}));
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 0))), VMPOWER_CMD_NACK);
    rig.rules.replace(nullptr);  // none: no rules, never a null set
    EXPECT_TRUE(rig.handler.accessRules().rules().empty());
}

TEST(RequestHandler, VcpuWithoutKnownPinning) {
    HandlerRig rig;
    rig.vcpus.setPcpus(1, CpuSet{});
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 1))), VMPOWER_CMD_NACK);
    rig.guest.vcpus = nullptr;
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 0))), VMPOWER_CMD_NACK);
    auto q = rig.send(packet(VMPOWER_QUERY_FREQ_LIST, 0, 0));
    EXPECT_EQ(replyCommand(q), VMPOWER_FREQ_LIST);
    EXPECT_EQ(fieldAt<std::uint8_t>(q, 80), 0U);
    EXPECT_TRUE(rig.power.calls.empty());
}

TEST(RequestHandler, CountersAddUp) {
    HandlerRig rig;
    rig.send(packet(1, 1, 0));                          // acked
    rig.send(packet(1, 99, 0));                         // nacked
    rig.send(packet(VMPOWER_CPU_POWER_CONNECT, 0, 0));  // ignored
    rig.send(packet(VMPOWER_QUERY_FREQ_LIST, 0, 0));    // answered
    RequestCounters c = rig.counters();
    EXPECT_EQ(c.records, 4U);
    EXPECT_EQ(c.acked, 1U);
    EXPECT_EQ(c.nacked, 1U);
    EXPECT_EQ(c.ignored, 1U);
    EXPECT_EQ(c.answered, 1U);
    EXPECT_EQ(c.records, c.acked + c.nacked + c.ignored + c.answered);
}

}  // namespace
}  // namespace vmpower
