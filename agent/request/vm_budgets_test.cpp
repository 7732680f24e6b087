// A VM's budget is its own, whatever its number of channels: one bucket for
// its requests, a smaller one for its host policies, one log throttle.

#include "vm_budgets.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "log_capture.h"
#include "log_throttle.h"
#include "test_support.h"

namespace vmpower {
namespace {

using namespace std::chrono_literals;
using namespace vmpower::testing;

// PKT_POLICY WORKLOAD HIGH on vCPU 1, as DPDK's guest builds it.
std::vector<std::byte> workloadHigh() {
    auto out = packet(VMPOWER_PKT_POLICY, 0, 0);
    vmpower_packet p;
    std::memcpy(&p, out.data(), sizeof p);
    p.policy_to_use = 2;  // WORKLOAD
    p.workload = 0;       // HIGH
    p.num_vcpu = 1;
    p.vcpu_to_control[0] = 1;
    std::memcpy(out.data(), &p, sizeof p);
    return out;
}

class CountingSink final : public HostPolicySink {
  public:
    Verdict setHostPolicy(const GuestIdentity&, HostPolicy, PolicyOrigin) override {
        ++sets;
        return Verdict::accepted();
    }
    bool removeHostPolicy(std::string_view) override {
        ++removes;
        return true;
    }
    int sets = 0, removes = 0;
};

// Every VM, at `rate` requests per second in bursts of `burst`.
AccessRule rated(double rate, unsigned burst) {
    AccessRule rule = allowAll();
    rule.requests_per_second = rate;
    rule.burst = burst;
    return rule;
}

// vm1 with 64 channels (DPDK's maximum: one per lcore).
struct ManyChannels {
    explicit ManyChannels(HandlerRig& rig) {
        for (int i = 0; i < 64; ++i) channels.push_back(rig.handler.newChannelState());
    }
    std::vector<ChannelRequestStatePtr> channels;
};

TEST(VmBudgets, OneBucketForAllTheVmsChannels) {
    HandlerRig rig(rated(10, 5));
    ManyChannels vm1(rig);
    std::size_t acks = 0;
    for (int round = 0; round < 10; ++round) {
        for (auto& ch : vm1.channels) {
            auto r = rig.handler.handle(rig.guest, *ch, packet(VMPOWER_CPU_POWER, 1, 0));
            if (replyCommand(r) == VMPOWER_CMD_ACK) ++acks;
        }
    }
    EXPECT_EQ(acks, 5U) << "the burst of the VM, not 64 bursts";
    EXPECT_EQ(rig.power.calls.size(), 5U);
    std::uint64_t limited = 0;
    for (auto& ch : vm1.channels) limited += rig.handler.counters(*ch).rate_limited;
    EXPECT_EQ(limited, 640U - 5U) << "counted on the channel it came on, as before";

    // Another VM has a budget of its own.
    VcpuMap vm2_vcpus({CpuSet{8}});
    GuestIdentity vm2{"vm2", "11111111-2222-3333-4444-555555555555", &vm2_vcpus};
    auto vm2_channel = rig.handler.newChannelState();
    EXPECT_EQ(replyCommand(rig.handler.handle(vm2, *vm2_channel, packet(1, 1, 0))),
              VMPOWER_CMD_ACK);

    rig.clock.advance(300ms);  // three tokens at 10/s, for the whole VM
    acks = 0;
    for (auto& ch : vm1.channels) {
        if (replyCommand(rig.handler.handle(rig.guest, *ch, packet(1, 1, 0))) == VMPOWER_CMD_ACK)
            ++acks;
    }
    EXPECT_EQ(acks, 3U);
}

TEST(VmBudgets, PktPolicyHasASmallerBudgetOfItsOwn) {
    CountingSink sink;
    // policy_rate 1/s, policy_burst 4 by default; only that budget at work.
    HandlerRig rig(rated(0, 1), {.host_policies = &sink});
    ManyChannels vm1(rig);
    std::size_t acks = 0, nacks = 0;
    for (auto& ch : vm1.channels) {
        auto r = rig.handler.handle(rig.guest, *ch, workloadHigh());
        (replyCommand(r) == VMPOWER_CMD_ACK ? acks : nacks)++;
    }
    EXPECT_EQ(acks, 4U);
    EXPECT_EQ(nacks, 60U);
    EXPECT_EQ(sink.sets, 4) << "a refused PKT_POLICY never reaches the engine";
    std::uint64_t limited = 0, limited_nacks = 0;
    for (auto& ch : vm1.channels) {
        const RequestCounters c = rig.handler.counters(*ch);
        limited += c.rate_limited;
        limited_nacks += c.nacks_by_reason[static_cast<std::size_t>(NackReason::RateLimited)];
    }
    EXPECT_EQ(limited, 60U) << "the same counter as the request budget's";
    EXPECT_EQ(limited_nacks, 60U) << "and the same NACK reason";
    // A REMOVE comes out of the same budget (ignored: DPDK reads no reply).
    EXPECT_TRUE(rig.send(packet(VMPOWER_PKT_POLICY_REMOVE, 0, 0)).empty());
    EXPECT_EQ(sink.removes, 0);
    // The VM's plain requests are not held back by its policies' budget.
    EXPECT_EQ(replyCommand(rig.send(packet(VMPOWER_CPU_POWER, 1, 0))), VMPOWER_CMD_ACK);

    rig.clock.advance(1s);
    EXPECT_EQ(replyCommand(rig.send(workloadHigh())), VMPOWER_CMD_ACK) << "one token at 1/s";
    EXPECT_EQ(replyCommand(rig.send(workloadHigh())), VMPOWER_CMD_NACK);
    EXPECT_EQ(sink.sets, 5);
}

TEST(VmBudgets, PolicyRateZeroIsUnlimited) {
    CountingSink sink;
    AccessRule rule = rated(0, 1);
    rule.policy_rate = 0;
    HandlerRig rig(rule, {.host_policies = &sink});
    for (int i = 0; i < 100; ++i)
        EXPECT_EQ(replyCommand(rig.send(workloadHigh())), VMPOWER_CMD_ACK);
    EXPECT_EQ(sink.sets, 100);
}

TEST(VmBudgets, TheBudgetGoesWithTheVmsLastLease) {
    ManualClock clock;
    VmBudgets book;
    {
        VmBudgets::Lease a = book.lease("u1");
        VmBudgets::Lease b = book.lease("u1");
        VmBudgets::Lease c = book.lease("u2");
        EXPECT_EQ(book.size(), 2U);
        EXPECT_EQ(&*a, &*b) << "one budget per VM";
        EXPECT_NE(&*a, &*c);
        EXPECT_TRUE(a->requests.take(clock.now(), 1, 1));
        EXPECT_FALSE(b->requests.take(clock.now(), 1, 1)) << "spent through the other lease";
        VmBudgets::Lease moved = std::move(a);
        EXPECT_FALSE(a);
        b = VmBudgets::Lease();
        EXPECT_EQ(book.size(), 2U) << "u1 still has a lease";
    }
    EXPECT_EQ(book.size(), 0U);
    VmBudgets::Lease again = book.lease("u1");
    EXPECT_TRUE(again->requests.take(clock.now(), 1, 1)) << "a restarted domain starts full";
}

TEST(VmBudgets, TheHandlersBookHoldsTheVmsThatHaveChannels) {
    HandlerRig rig;
    EXPECT_EQ(rig.handler.budgetedVms(), 0U) << "leased at a channel's first record";
    {
        ManyChannels vm1(rig);
        for (auto& ch : vm1.channels) rig.handler.handle(rig.guest, *ch, packet(1, 1, 0));
        rig.send(packet(1, 1, 0));
        EXPECT_EQ(rig.handler.budgetedVms(), 1U);
    }
    EXPECT_EQ(rig.handler.budgetedVms(), 1U) << "the rig's channel still leases it";
    rig.state.reset();
    EXPECT_EQ(rig.handler.budgetedVms(), 0U) << "the domain's last channel gone";
}

TEST(VmBudgets, RefusalsAreLoggedOncePerIntervalPerVmWithTheCountHeldBack) {
    HandlerRig rig(rated(1, 1));
    ManyChannels vm1(rig);
    test::LogCapture log;
    for (auto& ch : vm1.channels) rig.handler.handle(rig.guest, *ch, packet(1, 1, 0));
    // One ACK, 63 NACKs: one line for the VM, not one per channel.
    EXPECT_EQ(log.linesWith({"vm vm1:", "NACK"}).size(), 1U) << log.lines().size();
    EXPECT_TRUE(log.linesWith({"similar messages suppressed"}).empty());
    rig.clock.advance(kLogThrottleInterval);
    for (int i = 0; i < 3; ++i) rig.handler.handle(rig.guest, *vm1.channels[7], packet(1, 1, 0));
    // 10 s refilled one token (ACK), then two NACKs: the first is logged
    // with the 62 held back before it.
    const auto lines = log.linesWith({"vm vm1:", "NACK"});
    ASSERT_EQ(lines.size(), 2U);
    EXPECT_NE(lines[1].find("NACK, over the VM's rate limit (62 similar messages suppressed)"),
              std::string::npos)
        << lines[1];
}

TEST(LogThrottle, SuppressedNoteOnlyWhenSomethingWasHeldBack) {
    EXPECT_EQ(suppressedNote(0), "");
    EXPECT_EQ(suppressedNote(1), " (1 similar messages suppressed)");
    EXPECT_EQ(suppressedNote(62), " (62 similar messages suppressed)");
}

TEST(VmLogThrottles, OneThrottlePerVmForgottenWithIt) {
    ManualClock clock;
    VmLogThrottles t;
    std::uint64_t held = 0;
    EXPECT_TRUE(t.allow("u1", clock.now(), held));
    EXPECT_FALSE(t.allow("u1", clock.now(), held));
    EXPECT_TRUE(t.allow("u2", clock.now(), held)) << "another VM's line is not held back";
    clock.advance(kLogThrottleInterval);
    EXPECT_TRUE(t.allow("u1", clock.now(), held));
    EXPECT_EQ(held, 1U);
    t.forget("u1");
    t.forgetIf([](std::string_view uuid) { return uuid == "u2"; });
    EXPECT_EQ(t.size(), 0U);
}

}  // namespace
}  // namespace vmpower
