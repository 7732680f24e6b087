// What the request path counts, through the handler as a guest's records
// drive it: records by command, NACKs by the reason they were refused for.
// The shared-hardware and cpufreq reasons come from a real Arbiter over a
// fixture sysfs tree.
#include "request_counters.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <numeric>
#include <set>

#include "make_arbiter.h"
#include "sysfs_fixture.h"
#include "test_support.h"

namespace vmpower {
namespace {

using namespace vmpower::testing;

std::uint64_t commands(const RequestCounters& c, std::string_view name) {
    for (std::size_t i = 0; i < kCommandSlotCount; ++i) {
        if (commandSlotName(i) == name) return c.by_command[i];
    }
    ADD_FAILURE() << "no command slot named " << name;
    return 0;
}

std::uint64_t nacks(const RequestCounters& c, NackReason r) {
    return c.nacks_by_reason[static_cast<std::size_t>(r)];
}

TEST(RequestCounters, NamesComeFromTheProtocolsTablesAndAreDistinct) {
    EXPECT_EQ(commandSlotName(commandSlot(RequestKind::CpuPower, PowerAction::ScaleUp)), "up");
    EXPECT_EQ(commandSlotName(commandSlot(RequestKind::CpuPower, PowerAction::DisableTurbo)),
              "disable_turbo");
    EXPECT_EQ(commandSlotName(commandSlot(RequestKind::CpuPower, std::nullopt)), "CPU_POWER");
    EXPECT_EQ(commandSlotName(commandSlot(RequestKind::PktPolicyRemove, std::nullopt)),
              "PKT_POLICY_REMOVE");
    EXPECT_EQ(commandSlotName(commandSlot(RequestKind::Unknown, std::nullopt)), "unknown");
    std::set<std::string_view> names;
    for (std::size_t i = 0; i < kCommandSlotCount; ++i) names.insert(commandSlotName(i));
    EXPECT_EQ(names.size(), kCommandSlotCount);
    EXPECT_FALSE(names.contains("?"));
    std::set<std::string_view> reasons;
    for (std::size_t i = 0; i < kNackReasonCount; ++i)
        reasons.insert(nackReasonName(static_cast<NackReason>(i)));
    EXPECT_EQ(reasons.size(), kNackReasonCount);
    EXPECT_FALSE(reasons.contains("?")) << "every reason has a name";
}

TEST(RequestCounters, EachRecordIsCountedUnderItsCommand) {
    HandlerRig rig;
    rig.send(packet(VMPOWER_CPU_POWER, VMPOWER_SCALE_UP, 0));
    rig.send(packet(VMPOWER_CPU_POWER, VMPOWER_SCALE_UP, 1));
    rig.send(packet(VMPOWER_CPU_POWER, VMPOWER_ENABLE_TURBO, 0));
    rig.send(packet(VMPOWER_CPU_POWER, 99, 0));  // no such unit
    rig.send(packet(VMPOWER_CPU_POWER_CONNECT, 0, 0));
    rig.send(packet(VMPOWER_QUERY_CAPS, 0, 0));
    rig.send(packet(VMPOWER_PKT_POLICY_REMOVE, 0, 0));
    rig.send(packet(12345, 0, 0));
    rig.send(std::vector<std::byte>(20));  // neither size
    const RequestCounters c = rig.counters();
    EXPECT_EQ(commands(c, "up"), 2U);
    EXPECT_EQ(commands(c, "enable_turbo"), 1U);
    EXPECT_EQ(commands(c, "down"), 0U);
    EXPECT_EQ(commands(c, "CPU_POWER"), 1U);
    EXPECT_EQ(commands(c, "CONNECT"), 1U);
    EXPECT_EQ(commands(c, "QUERY_CAPS"), 1U);
    EXPECT_EQ(commands(c, "PKT_POLICY_REMOVE"), 1U);
    EXPECT_EQ(commands(c, "unknown"), 2U);
    EXPECT_EQ(std::accumulate(c.by_command.begin(), c.by_command.end(), std::uint64_t{0}),
              c.records);
}

// Each refusal site, one record each: the reason counted is the one the
// log line gives.
TEST(RequestCounters, EachNackCountsItsReason) {
    AccessRule rule = allowAll();
    rule.allowed_actions = {PowerAction::Max, PowerAction::Min};
    rule.queries = false;
    rule.shared_pcpus = false;
    rule.multi_pcpu = false;
    rule.allowed_pcpus = CpuSet::parse("2-3");
    HandlerRig rig(rule);
    VcpuMap vcpus({CpuSet{2}, CpuSet{3}, CpuSet{4}, CpuSet{}, *CpuSet::parse("2-3")});
    rig.guest.vcpus = &vcpus;
    rig.sharing.shared = CpuSet{3};

    struct Case {
        std::vector<std::byte> record;
        NackReason reason;
    };
    const Case cases[] = {
        {packet(VMPOWER_CPU_POWER, VMPOWER_SCALE_UP, 0), NackReason::NotAllowed},
        {packet(VMPOWER_CPU_POWER, 99, 0), NackReason::Malformed},
        {packet(VMPOWER_QUERY_FREQ_LIST, 0, 0), NackReason::NotAllowed},
        {legacyPacket(VMPOWER_QUERY_FREQ_LIST, 0, 0), NackReason::LegacyFormat},
        {packet(VMPOWER_CPU_POWER, VMPOWER_SCALE_MAX, 9), NackReason::UnknownCpu},
        {packet(VMPOWER_CPU_POWER, VMPOWER_SCALE_MAX, 3), NackReason::UnknownCpu},  // no pinning
        {packet(VMPOWER_CPU_POWER, VMPOWER_SCALE_MAX, 2), NackReason::OutsideAllowedCpus},
        {packet(VMPOWER_CPU_POWER, VMPOWER_SCALE_MAX, 4), NackReason::NotAllowed},  // multi_pcpu
        {packet(VMPOWER_CPU_POWER, VMPOWER_SCALE_MAX, 1), NackReason::SharedPcpus},
        {packet(VMPOWER_CPU_POWER, VMPOWER_SCALE_MAX, 0, "", true), NackReason::NotAllowed},
        {packet(VMPOWER_PKT_POLICY, 0, 0), NackReason::PoliciesNotServed},
    };
    std::array<std::uint64_t, kNackReasonCount> want{};
    for (const Case& c : cases) {
        auto reply = rig.send(c.record);
        ASSERT_FALSE(reply.empty());
        EXPECT_EQ(replyCommand(reply), VMPOWER_CMD_NACK);
        ++want[static_cast<std::size_t>(c.reason)];
        EXPECT_EQ(rig.counters().nacks_by_reason, want) << nackReasonName(c.reason);
    }
    EXPECT_TRUE(rig.power.calls.empty()) << "a NACK never touches a CPU";
    EXPECT_EQ(rig.counters().nacked, std::size(cases));

    // The rule's own refusals by the sharing rule and cpufreq's are apart.
    rig.power.apply_result = false;
    rig.send(packet(VMPOWER_CPU_POWER, VMPOWER_SCALE_MAX, 0));
    EXPECT_EQ(nacks(rig.counters(), NackReason::CpufreqFailed), 1U);
    rig.power.refusal_shared_hardware = true;
    rig.send(packet(VMPOWER_CPU_POWER, VMPOWER_SCALE_MIN, 0));
    EXPECT_EQ(nacks(rig.counters(), NackReason::SharedHardware), 1U);
}

TEST(RequestCounters, NoRuleAndTheRateLimitAreReasonsToo) {
    HandlerRig unmatched(allowAll("dpdk-*"));
    unmatched.send(packet(VMPOWER_CPU_POWER, VMPOWER_SCALE_MAX, 0));
    EXPECT_EQ(nacks(unmatched.counters(), NackReason::NoRule), 1U);

    AccessRule rule = allowAll();
    rule.requests_per_second = 1;
    rule.burst = 2;
    HandlerRig rig(rule);
    for (int i = 0; i < 5; ++i) rig.send(packet(VMPOWER_CPU_POWER, VMPOWER_SCALE_MAX, 0));
    const RequestCounters c = rig.counters();
    EXPECT_EQ(c.acked, 2U);
    EXPECT_EQ(nacks(c, NackReason::RateLimited), 3U);
    EXPECT_EQ(c.rate_limited, 3U);
    // A refused PKT_POLICY_REMOVE is ignored (DPDK reads no reply): no NACK.
    rig.send(packet(VMPOWER_PKT_POLICY_REMOVE, 0, 0));
    EXPECT_EQ(rig.counters().nacked, 3U);
    EXPECT_EQ(rig.counters().ignored, 1U);
}

class RefusingSink final : public HostPolicySink {
  public:
    Verdict setHostPolicy(const GuestIdentity&, HostPolicy, PolicyOrigin) override {
        return Verdict::refused("the engine says no");
    }
    bool removeHostPolicy(std::string_view) override { return false; }
};

TEST(RequestCounters, PolicyRecordsRefusedByTheirFieldsOrTheEngine) {
    RefusingSink sink;
    HandlerRig rig(allowAll(), {.host_policies = &sink});
    auto bad = packet(VMPOWER_PKT_POLICY, 0, 0);  // num_vcpu 0
    rig.send(bad);
    EXPECT_EQ(nacks(rig.counters(), NackReason::Malformed), 1U);
    auto far = packet(VMPOWER_PKT_POLICY, 0, 0);
    vmpower_packet p;
    std::memcpy(&p, far.data(), sizeof p);
    p.policy_to_use = 2;  // WORKLOAD, HIGH
    p.num_vcpu = 1;
    p.vcpu_to_control[0] = 7;  // the VM has 4
    std::memcpy(far.data(), &p, sizeof p);
    rig.send(far);
    EXPECT_EQ(nacks(rig.counters(), NackReason::UnknownCpu), 1U);
    p.vcpu_to_control[0] = 1;
    std::memcpy(far.data(), &p, sizeof p);
    rig.send(far);
    EXPECT_EQ(nacks(rig.counters(), NackReason::PolicyRefused), 1U);
    EXPECT_EQ(commands(rig.counters(), "PKT_POLICY"), 3U);
}

// A real Arbiter on an acpi-cpufreq fixture (policy2 = CPUs 2-3): vm1's
// vCPU 0 on CPU 2 may not slow CPU 3's VM; CPU 5 has no cpufreq here.
TEST(RequestCounters, TheArbitersRefusalsOnAFixtureTree) {
    test::SysfsFixture fx("acpi-cpufreq");
    CpufreqOptions o;
    o.sysfs_root = fx.root();
    o.state_dir = fx.scratch("state");
    o.proc_root = fx.scratch("proc");
    o.host_cpus = CpuSet{};
    auto arbiter = makeArbiter(o);
    arbiter->setFootprint(kVm1Uuid, "vm1", CpuSet{2});
    arbiter->setFootprint("bbbbbbbb-0000-0000-0000-000000000002", "vm-b", CpuSet{3});
    ManualClock clock;
    FakeSharing sharing;
    const RulesInForce rules(
        std::make_shared<const AccessRules>(std::vector<AccessRule>{allowAll()}));
    RequestHandler handler(*arbiter, clock, sharing, rules);
    auto state = handler.newChannelState();
    VcpuMap vcpus = pinnedVcpus();
    GuestIdentity guest{"vm1", kVm1Uuid, &vcpus};
    const auto before = fx.snapshot();

    auto reply = handler.handle(guest, *state, packet(VMPOWER_CPU_POWER, VMPOWER_SCALE_MIN, 0));
    EXPECT_EQ(replyCommand(reply), VMPOWER_CMD_NACK);
    EXPECT_EQ(nacks(handler.counters(*state), NackReason::SharedHardware), 1U);
    reply = handler.handle(guest, *state, packet(VMPOWER_CPU_POWER, VMPOWER_SCALE_MAX, 3));
    EXPECT_EQ(replyCommand(reply), VMPOWER_CMD_NACK);
    EXPECT_EQ(nacks(handler.counters(*state), NackReason::CpufreqFailed), 1U);
    EXPECT_EQ(fx.snapshot(), before) << "refused: nothing written";

    reply = handler.handle(guest, *state, packet(VMPOWER_CPU_POWER, VMPOWER_SCALE_MAX, 0));
    EXPECT_EQ(replyCommand(reply), VMPOWER_CMD_ACK) << "raising is everyone's right";
    const RequestCounters c = handler.counters(*state);
    EXPECT_EQ(c.nacked, 2U);
    EXPECT_EQ(commands(c, "min"), 1U);
    EXPECT_EQ(commands(c, "max"), 2U);
}

}  // namespace
}  // namespace vmpower
