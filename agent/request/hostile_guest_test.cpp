// The "Hostile guests" list, at the request handler: each case must
// leave CPUs untouched unless the request is legitimate, and never reply
// with anything but the guest's own data.
#include <gtest/gtest.h>

#include "channel_request_state.h"
#include "record_assembler.h"
#include "test_support.h"

namespace vmpower {
namespace {

using namespace vmpower::testing;
using namespace std::chrono_literals;

// Feeds reads through a channel's assembler to the handler, as core does.
std::vector<std::vector<std::byte>> serve(HandlerRig& rig, RecordAssembler& a,
                                          std::span<const std::byte> read) {
    std::vector<std::vector<std::byte>> replies;
    a.feed(read, [&](std::span<const std::byte> rec) {
        auto r = rig.send(rec);
        if (!r.empty()) replies.push_back(std::move(r));
    });
    return replies;
}

TEST(HostileGuest, RecordSplitOverReads) {
    HandlerRig rig;
    RecordAssembler a(464);
    auto req = packet(VMPOWER_CPU_POWER, VMPOWER_SCALE_UP, 0);
    std::span<const std::byte> s(req);
    EXPECT_TRUE(serve(rig, a, s.first(1)).empty());
    EXPECT_TRUE(serve(rig, a, s.subspan(1, 300)).empty());
    EXPECT_TRUE(rig.power.calls.empty());
    auto replies = serve(rig, a, s.subspan(301));
    ASSERT_EQ(replies.size(), 1U);
    EXPECT_EQ(replies[0], req);
    EXPECT_EQ(rig.power.calls.size(), 1U);
}

TEST(HostileGuest, ThreeRecordsInOneRead) {
    HandlerRig rig;
    RecordAssembler a(464);
    std::vector<std::byte> read;
    for (std::uint32_t unit : {1U, 2U, 3U}) {
        auto p = packet(VMPOWER_CPU_POWER, unit, unit);
        read.insert(read.end(), p.begin(), p.end());
    }
    auto replies = serve(rig, a, read);
    ASSERT_EQ(replies.size(), 3U);
    ASSERT_EQ(rig.power.calls.size(), 3U);
    EXPECT_EQ(rig.power.calls[0].action, PowerAction::ScaleUp);
    EXPECT_EQ(rig.power.calls[1].action, PowerAction::ScaleDown);
    EXPECT_EQ(rig.power.calls[2].action, PowerAction::Max);
    EXPECT_EQ(rig.power.calls[2].pcpus, CpuSet{5});
}

TEST(HostileGuest, UnknownCommandGetsNoReply) {
    HandlerRig rig;
    for (std::uint32_t cmd : {0U, 5U, 6U, 11U, 0x80000001U}) {
        EXPECT_TRUE(rig.send(packet(cmd, 1, 0)).empty()) << cmd;
    }
    EXPECT_TRUE(rig.power.calls.empty());
    EXPECT_EQ(rig.counters().ignored, 5U);
}

TEST(HostileGuest, UnknownUnitIsNacked) {
    HandlerRig rig;
    for (std::uint32_t unit : {0U, 7U, 0xffffffffU}) {
        auto req = packet(VMPOWER_CPU_POWER, unit, 0);
        auto reply = rig.send(req);
        ASSERT_EQ(reply.size(), 464U);
        EXPECT_EQ(replyCommand(reply), VMPOWER_CMD_NACK);
        reply[12] = std::byte{1};
        EXPECT_EQ(reply, req) << "a NACK is the request echoed";
    }
    EXPECT_TRUE(rig.power.calls.empty());
}

TEST(HostileGuest, ResourceIdAtOrBeyondVcpuCount) {
    HandlerRig rig;  // 4 vCPUs
    for (std::uint64_t id :
         {std::uint64_t{4}, std::uint64_t{255}, std::uint64_t{1} << 32,
          (std::uint64_t{1} << 32) + 1, std::uint64_t{1} << 63, ~std::uint64_t{0}}) {
        EXPECT_EQ(replyCommand(rig.send(packet(VMPOWER_CPU_POWER, 1, id))), VMPOWER_CMD_NACK) << id;
        auto q = rig.send(packet(VMPOWER_QUERY_FREQ, 0, id));
        EXPECT_EQ(q.size(), 88U);
        EXPECT_EQ(replyCommand(q), VMPOWER_CMD_NACK) << id;
        auto c = rig.send(packet(VMPOWER_QUERY_CAPS, 0, id));
        EXPECT_EQ(c.size(), 184U);
        EXPECT_EQ(replyCommand(c), VMPOWER_CMD_NACK) << id;
    }
    EXPECT_TRUE(rig.power.calls.empty()) << "2^32 must not wrap to vCPU 0";
}

TEST(HostileGuest, PhysicalWithoutPermission) {
    HandlerRig rig;  // physical: false (the default)
    for (std::uint64_t cpu : {0U, 2U, 3U, 63U}) {
        EXPECT_EQ(replyCommand(rig.send(packet(VMPOWER_CPU_POWER, 3, cpu, "", true))),
                  VMPOWER_CMD_NACK);
    }
    EXPECT_TRUE(rig.power.calls.empty());
}

TEST(HostileGuest, CoreTypeGarbageByte) {
    AccessRule rule = allowAll();
    rule.physical_addressing = true;
    HandlerRig rig(rule);
    auto req = packet(VMPOWER_CPU_POWER, 1, 0);
    req[offsetof(vmpower_packet, core_type)] = std::byte{0x42};
    auto reply = rig.send(req);
    EXPECT_EQ(replyCommand(reply), VMPOWER_CMD_NACK);
    EXPECT_EQ(reply[offsetof(vmpower_packet, core_type)], std::byte{0x42})
        << "echoed, never loaded as bool";
    EXPECT_TRUE(rig.power.calls.empty());
}

TEST(HostileGuest, VmNameOfAnotherVmChangesNothing) {
    // Only "victim" may scale; vm1 claims to be it.
    HandlerRig rig(allowAll("victim"));
    auto req = packet(VMPOWER_CPU_POWER, VMPOWER_SCALE_MAX, 0, "victim");
    auto reply = rig.send(req);
    EXPECT_EQ(replyCommand(reply), VMPOWER_CMD_NACK);
    EXPECT_TRUE(rig.power.calls.empty());

    // Allowed itself, vm1 naming another VM still acts as vm1 on vm1's pCPUs.
    HandlerRig rig2;
    auto req2 = packet(VMPOWER_CPU_POWER, VMPOWER_SCALE_MAX, 1, "victim");
    auto reply2 = rig2.send(req2);
    EXPECT_EQ(reply2, req2) << "vm_name echoed byte for byte: the guest's own bytes";
    ASSERT_EQ(rig2.power.calls.size(), 1U);
    EXPECT_EQ(rig2.power.calls[0].who.domainUuid(), kVm1Uuid);
    EXPECT_EQ(rig2.power.calls[0].pcpus, CpuSet{3});
}

TEST(HostileGuest, QueryWithAnotherVmsNameAnswersAboutItself) {
    HandlerRig rig;
    rig.power.khz = {{2, 1111}, {9, 9999}};
    auto r = rig.send(packet(VMPOWER_QUERY_FREQ_LIST, 0, 0, "victim"));
    EXPECT_EQ(fieldAt<std::uint32_t>(r, 48), 1111U);
    EXPECT_EQ(fieldAt<std::uint8_t>(r, 80), 4U) << "vm1's vCPU count, not the victim's";
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(r.data() + 16), 6), "victim");
}

TEST(HostileGuest, FloodOverTheRateLimit) {
    AccessRule rule = allowAll();
    rule.requests_per_second = 10;
    rule.burst = 5;
    HandlerRig rig(rule);
    std::size_t acks = 0, nacks = 0;
    for (int i = 0; i < 1000; ++i) {
        auto r = rig.send(packet(VMPOWER_CPU_POWER, 1, 0));
        (replyCommand(r) == VMPOWER_CMD_ACK ? acks : nacks)++;
    }
    EXPECT_EQ(acks, 5U);
    EXPECT_EQ(nacks, 995U);
    EXPECT_EQ(rig.power.calls.size(), 5U) << "a rate-limited NACK touches nothing";
    EXPECT_EQ(rig.counters().rate_limited, 995U);
    // Queries cost sysfs reads: limited too, with a NACK of their own size.
    auto q = rig.send(packet(VMPOWER_QUERY_FREQ_LIST, 0, 0));
    EXPECT_EQ(q.size(), 88U);
    EXPECT_EQ(replyCommand(q), VMPOWER_CMD_NACK);
    rig.clock.advance(1s);  // refills to the burst, no further
    for (int i = 0; i < 5; ++i) EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 0))), VMPOWER_CMD_ACK);
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 0))), VMPOWER_CMD_NACK);
    rig.clock.advance(100ms);  // one token at 10/s
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 0))), VMPOWER_CMD_ACK);
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 0))), VMPOWER_CMD_NACK);
}

TEST(HostileGuest, TheVmsOtherChannelsShareItsBudgetAnotherVmIsServed) {
    AccessRule rule = allowAll();
    rule.requests_per_second = 1;
    rule.burst = 1;
    HandlerRig rig(rule);
    for (int i = 0; i < 100; ++i) rig.send(packet(1, 1, 0));
    // The VM's other channel (another lcore) shares the VM's bucket: a guest
    // with 64 channels has the budget of one VM, not 64 times it.
    auto other_channel = rig.handler.newChannelState();
    EXPECT_EQ(replyCommand(rig.handler.handle(rig.guest, *other_channel, packet(1, 1, 1))),
              VMPOWER_CMD_NACK);
    EXPECT_EQ(rig.handler.counters(*other_channel).rate_limited, 1U);
    // Another VM has a bucket of its own.
    VcpuMap vm2_vcpus({CpuSet{8}});
    GuestIdentity vm2{"vm2", "11111111-2222-3333-4444-555555555555", &vm2_vcpus};
    auto vm2_channel = rig.handler.newChannelState();
    EXPECT_EQ(replyCommand(rig.handler.handle(vm2, *vm2_channel, packet(1, 1, 0))),
              VMPOWER_CMD_ACK);
    EXPECT_EQ(rig.power.calls.back().pcpus, CpuSet{8});
}

TEST(HostileGuest, GarbageConnect) {
    HandlerRig rig;
    for (unsigned fill : {0x00U, 0xA5U, 0xFFU}) {
        std::vector<std::byte> rec(464, static_cast<std::byte>(fill));
        std::uint32_t cmd = VMPOWER_CPU_POWER_CONNECT;
        std::memcpy(rec.data() + 12, &cmd, 4);
        EXPECT_TRUE(rig.send(rec).empty());
    }
    EXPECT_TRUE(rig.power.calls.empty());
    EXPECT_EQ(rig.counters().ignored, 3U);
    EXPECT_EQ(rig.counters().nacked, 0U);
}

TEST(HostileGuest, ConnectIsNotRateLimited) {
    AccessRule rule = allowAll();
    rule.requests_per_second = 1;
    rule.burst = 1;
    HandlerRig rig(rule);
    for (int i = 0; i < 50; ++i) rig.send(packet(VMPOWER_CPU_POWER_CONNECT, 0, 0));
    EXPECT_EQ(replyCommand(rig.send(packet(1, 1, 0))), VMPOWER_CMD_ACK);
}

TEST(HostileGuest, RecordOfTheWrongSizeIsIgnored) {
    HandlerRig rig;
    EXPECT_TRUE(rig.send(std::vector<std::byte>(456)).empty());
    EXPECT_EQ(rig.counters().ignored, 1U);
}

TEST(HostileGuest, NoStaleBytesInReplies) {
    // Every reply of every kind: zero wherever the request had zeros and the
    // reply struct has padding or unfilled entries.
    HandlerRig rig;
    auto ack = rig.send(packet(1, 1, 0));
    for (std::size_t i = 0; i < ack.size(); ++i) {
        if (i != 8 && i != 12) {
            ASSERT_EQ(ack[i], std::byte{0}) << i;
        }
    }
    auto freq = rig.send(packet(VMPOWER_QUERY_FREQ, 0, 0));
    for (std::size_t i = 16; i < 88; ++i) {
        if (i != 80) {
            ASSERT_EQ(freq[i], std::byte{0}) << i;  // no cpufreq in the fake: 0 kHz
        }
    }
}

}  // namespace
}  // namespace vmpower
