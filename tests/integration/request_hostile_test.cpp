// Hostile guests through the channel sockets: split and batched records,
// garbage, floods, a guest that never reads, a channel closing mid-record;
// another VM keeps being served throughout.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "request_path_world.h"

namespace vmpower::test {
namespace {

using namespace std::chrono_literals;

TEST_F(RequestPath, HostileGuestsGetNowhereAndOtherChannelsKeepBeingServed) {
    // acpi-cpufreq. hostile: vCPU 0 on pCPU 1 (policy1), vCPU 1 on pCPU 2
    // (policy2). bystander: pCPU 0 (policy0). flooder and deaf: pCPU 3.
    // Every VM pins its emulator threads to its own CPUs (<emulatorpin>): a
    // VM whose QEMU threads may run anywhere is a stakeholder of every policy
    // and its neighbours could then only raise (docs/policy.md).
    start("acpi-cpufreq",
          {{"hostile", {"1", "2"}, -1, "1-2"},
           {"bystander", {"0"}, -1, "0"},
           {"flooder", {"3"}, -1, "3"},
           {"deaf", {"3"}, -1, "3"}},
          "  - name: hostile\n"
          "    rate: 0\n"
          "  - name: flooder\n"
          "    rate: 1\n"
          "    burst: 5\n"
          "  - name: deaf\n"
          "    rate: 0\n"
          "  - name: \"*\"\n");
    const std::string setspeed0 = kPolicy0 + "scaling_setspeed";
    const std::string setspeed1 = kPolicy1 + "scaling_setspeed";
    const std::string setspeed2 = kPolicy2 + "scaling_setspeed";

    // The bystander alternates up and down: every answer must be an ACK, in
    // a bounded time, and its CPU must follow.
    bool bystander_up = true;
    auto bystanderServed = [&](const char* after) {
        SCOPED_TRACE(std::string("bystander after: ") + after);
        const Bytes req = cpuPower(0, bystander_up ? VMPOWER_SCALE_UP : VMPOWER_SCALE_DOWN);
        EXPECT_EQ(hex(exchange("bystander", 0, req, kRecord, 2s)), hex(req));
        EXPECT_EQ(fixture_->read(setspeed0), bystander_up ? "1800000\n" : "1600000\n");
        EXPECT_EQ(channel("bystander", 0).state(), Channel::State::Connected);
        bystander_up = !bystander_up;
    };
    // A query as a marker: its 88-byte reply is the next thing on the stream
    // only if nothing was answered to what came before it.
    auto marker = [&](const std::string& vm, unsigned ch) {
        Bytes r = exchange(vm, ch, packet(VMPOWER_QUERY_FREQ, 0, 0xabcd), VMPOWER_FREQ_LIST_SIZE);
        EXPECT_EQ(get<std::uint32_t>(r, offsetof(vmpower_freq_list, unit)), 0xabcdu);
        EXPECT_EQ(get<std::uint32_t>(r, offsetof(vmpower_freq_list, command)), VMPOWER_FREQ_LIST);
    };
    bystanderServed("start");

    {
        SCOPED_TRACE("a record split over two writes, loop turns in between");
        const Bytes req = cpuPower(0, VMPOWER_SCALE_MIN);
        ASSERT_TRUE(q("hostile", 0).sendAll(*agent_, Bytes(req.begin(), req.begin() + 100)));
        ASSERT_TRUE(
            runUntil(*agent_, [&] { return channel("hostile", 0).stats().bytes_in == 100; }));
        int turns = 0;  // a few more loop turns (each ends within runUntil's 10 ms tick)
        runUntil(*agent_, [&] { return turns++ == 5; });
        q("hostile", 0).pump();
        EXPECT_TRUE(q("hostile", 0).inbox().empty()) << "no reply to half a record";
        EXPECT_EQ(channel("hostile", 0).state(), Channel::State::Connected);
        bystanderServed("half a record");  // and the half record waits meanwhile
        ASSERT_TRUE(q("hostile", 0).sendAll(*agent_, Bytes(req.begin() + 100, req.end())));
        EXPECT_EQ(hex(receive(q("hostile", 0), kRecord)), hex(req));
        EXPECT_EQ(fixture_->read(setspeed1), "800000\n");
    }
    bystanderServed("split record");

    {
        SCOPED_TRACE("three records in one write");
        const Bytes a = cpuPower(0, VMPOWER_SCALE_UP), b = cpuPower(0, VMPOWER_SCALE_UP),
                    c = withVmName(cpuPower(0, VMPOWER_SCALE_DOWN), "third");
        const Bytes three = concat({a, b, c});
        EXPECT_EQ(hex(exchange("hostile", 0, three, 3 * kRecord)), hex(three));
        EXPECT_EQ(fixture_->read(setspeed1),
                  "1000000\n");  // 800000 -> 1000000 -> 1200000 -> 1000000
        // And one and a half records twice: the halves join across writes.
        const Bytes d = cpuPower(0, VMPOWER_SCALE_UP);
        const Bytes all = concat({a, d, c});
        const auto cut = static_cast<std::ptrdiff_t>(kRecord + kRecord / 2);
        ASSERT_TRUE(q("hostile", 0).sendAll(*agent_, Bytes(all.begin(), all.begin() + cut)));
        ASSERT_TRUE(q("hostile", 0).sendAll(*agent_, Bytes(all.begin() + cut, all.end())));
        EXPECT_EQ(hex(receive(q("hostile", 0), all.size())), hex(all));
        EXPECT_EQ(fixture_->read(setspeed1),
                  "1200000\n");  // 1000000 -> 1200000 -> 1400000 -> 1200000
    }
    bystanderServed("three records");

    {
        SCOPED_TRACE("unknown commands and units");
        const TreeSnapshot before = fixture_->snapshot();
        const auto ignored = channel("hostile", 0).stats().requests.ignored;
        const Bytes unit7 = cpuPower(0, 7), unit0 = cpuPower(0, 0),
                    unit_huge = cpuPower(0, 0xffffffffu);
        ASSERT_TRUE(q("hostile", 0)
                        .sendAll(*agent_, concat({packet(11, 0, VMPOWER_SCALE_MAX),
                                                  packet(0, 0, VMPOWER_SCALE_MAX), unit7,
                                                  packet(0xffffffffu, 0, VMPOWER_SCALE_MAX), unit0,
                                                  packet(5, 0, 1), packet(6, 0, 1), unit_huge})));
        EXPECT_EQ(hex(receive(q("hostile", 0), kRecord)), hex(echo(unit7, VMPOWER_CMD_NACK)));
        EXPECT_EQ(hex(receive(q("hostile", 0), kRecord)), hex(echo(unit0, VMPOWER_CMD_NACK)));
        EXPECT_EQ(hex(receive(q("hostile", 0), kRecord)), hex(echo(unit_huge, VMPOWER_CMD_NACK)));
        marker("hostile", 0);  // unknown commands: no reply at all
        EXPECT_EQ(channel("hostile", 0).stats().requests.ignored, ignored + 5);
        EXPECT_EQ(diffTrees(before, fixture_->snapshot()), std::vector<std::string>{});
    }
    bystanderServed("unknown commands");

    {
        SCOPED_TRACE("garbage CONNECT");
        const TreeSnapshot before = fixture_->snapshot();
        const auto ignored = channel("hostile", 1).stats().requests.ignored;
        std::mt19937_64 rng(20240521);
        Bytes garbage_all;
        for (int i = 0; i < 3; ++i) {
            Bytes garbage(kRecord);
            for (auto& byte : garbage) byte = static_cast<std::byte>(rng() & 0xff);
            put(garbage, offsetof(vmpower_packet, command),
                std::uint32_t{VMPOWER_CPU_POWER_CONNECT});
            garbage_all.insert(garbage_all.end(), garbage.begin(), garbage.end());
        }
        ASSERT_TRUE(q("hostile", 1).sendAll(*agent_, garbage_all));
        marker("hostile", 1);  // no reply to any CONNECT
        EXPECT_EQ(channel("hostile", 1).stats().requests.ignored, ignored + 3);
        EXPECT_EQ(diffTrees(before, fixture_->snapshot()), std::vector<std::string>{});
    }
    bystanderServed("garbage CONNECT");

    {
        SCOPED_TRACE("vm_name of another VM");
        const TreeSnapshot before = fixture_->snapshot();
        // Fields full of junk too: echoed field by field, padding zeroed.
        Bytes req = withVmName(cpuPower(1, VMPOWER_SCALE_MAX), "bystander");
        for (std::size_t i = 48; i < 444; ++i) req[i] = static_cast<std::byte>(i * 7);
        for (std::size_t i = 445; i < kRecord; ++i) req[i] = static_cast<std::byte>(0xa5);
        const Bytes reply = exchange("hostile", 1, req, kRecord);
        EXPECT_EQ(hex(reply), hex(echo(req, VMPOWER_CMD_ACK)));
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(reply.data()) + 16), "bystander");
        // Its own vCPU 1 (pCPU 2, policy2), not the bystander's pCPU 0.
        EXPECT_EQ(diffTrees(before, fixture_->snapshot()),
                  (std::vector<std::string>{kPolicy2 + "scaling_governor", setspeed2}));
        EXPECT_EQ(fixture_->read(setspeed2), "3400000\n");
        // A query naming the bystander describes the asker's own vCPUs.
        Bytes r =
            exchange("hostile", 0, withVmName(packet(VMPOWER_QUERY_FREQ_LIST, 0), "bystander"),
                     VMPOWER_FREQ_LIST_SIZE);
        EXPECT_EQ(get<std::uint8_t>(r, offsetof(vmpower_freq_list, num_vcpu)), 2u);
        EXPECT_EQ(get<std::uint32_t>(r, offsetof(vmpower_freq_list, freq_list)), 1200000u);
        EXPECT_EQ(get<std::uint32_t>(r, offsetof(vmpower_freq_list, freq_list) + 4), 3400000u);
    }
    bystanderServed("vm_name of another VM");

    {
        SCOPED_TRACE("a flood over the rate limit (rate 1/s, burst 5)");
        // Up and max only: policy2 is shared with deaf, which asks for no
        // frequency there, so flooder may only raise it.
        constexpr std::size_t kFlood = 50;
        Bytes flood;
        for (std::size_t i = 0; i < kFlood; ++i) {
            const Bytes r = cpuPower(0, i % 2 ? VMPOWER_SCALE_MAX : VMPOWER_SCALE_UP);
            flood.insert(flood.end(), r.begin(), r.end());
        }
        const Bytes replies = exchange("flooder", 0, flood, flood.size());
        ASSERT_EQ(replies.size(), flood.size());
        std::size_t acks = 0, nacks = 0;
        for (std::size_t i = 0; i < kFlood; ++i) {
            Bytes one(replies.begin() + static_cast<std::ptrdiff_t>(i * kRecord),
                      replies.begin() + static_cast<std::ptrdiff_t>((i + 1) * kRecord));
            Bytes asked(flood.begin() + static_cast<std::ptrdiff_t>(i * kRecord),
                        flood.begin() + static_cast<std::ptrdiff_t>((i + 1) * kRecord));
            const auto cmd = get<std::uint32_t>(one, 12);
            (cmd == VMPOWER_CMD_ACK ? acks : nacks)++;
            EXPECT_EQ(hex(one), hex(echo(asked, cmd))) << "reply " << i;
            if (i < 5) {
                EXPECT_EQ(cmd, VMPOWER_CMD_ACK) << "the burst is served";
            }
        }
        EXPECT_GE(acks, 5u);
        EXPECT_GT(nacks, 0u);
        const auto stats = channel("flooder", 0).stats();
        EXPECT_EQ(stats.requests.rate_limited, nacks);
        EXPECT_EQ(stats.requests.nacked, nacks);
        EXPECT_EQ(stats.requests.acked, acks);
    }
    bystanderServed("flood");

    {
        SCOPED_TRACE("a guest that never reads");
        int small = 4096;
        ASSERT_EQ(::setsockopt(q("deaf", 0).fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
        constexpr std::uint64_t kRequests = 5000;
        // vm_name is echoed, never read: it numbers the requests, so the
        // replies that get through show which ones were dropped.
        auto numbered = [](std::uint64_t i) {
            return withVmName(cpuPower(0, VMPOWER_SCALE_MAX), "req-" + std::to_string(i));
        };
        Bytes many;
        many.reserve(kRequests * kRecord);
        for (std::uint64_t i = 0; i < kRequests; ++i) {
            const Bytes one = numbered(i);
            many.insert(many.end(), one.begin(), one.end());
        }
        ASSERT_TRUE(q("deaf", 0).sendAll(*agent_, many));
        ASSERT_TRUE(runUntil(
            *agent_, [&] { return channel("deaf", 0).stats().requests.records == kRequests; },
            30s));
        auto stats = channel("deaf", 0).stats();
        EXPECT_EQ(stats.requests.acked, kRequests);
        EXPECT_GT(stats.replies_dropped, 0u);
        EXPECT_EQ(channel("deaf", 0).state(), Channel::State::Connected);
        EXPECT_EQ(fixture_->read(setspeed2), "3400000\n");
        bystanderServed("a guest that never reads");  // the loop is not wedged

        // When it finally reads: whole ACKs only, in order, the oldest
        // dropped first: whatever reached the socket before it filled, then
        // the newest reply_queue_records (64) replies.
        const std::uint64_t expected = kRequests - stats.replies_dropped;
        ASSERT_GE(expected, 64u);
        Bytes got = receive(q("deaf", 0), expected * kRecord, 30s);
        ASSERT_EQ(got.size(), expected * kRecord);
        std::vector<std::uint64_t> seq;
        for (std::uint64_t i = 0; i < expected; ++i) {
            const Bytes rec(got.begin() + static_cast<std::ptrdiff_t>(i * kRecord),
                            got.begin() + static_cast<std::ptrdiff_t>((i + 1) * kRecord));
            const std::string name(reinterpret_cast<const char*>(rec.data()) + 16);
            ASSERT_EQ(name.rfind("req-", 0), 0u) << "record " << i;
            seq.push_back(std::stoull(name.substr(4)));
            ASSERT_EQ(hex(rec), hex(numbered(seq.back()))) << "record " << i;
        }
        // seq = 0, 1, ..., a-1 (went out before the socket filled), then the
        // newest ones up to the last request (the queue's content).
        std::uint64_t through_socket = 0;
        while (through_socket < expected && seq[through_socket] == through_socket) ++through_socket;
        ASSERT_GT(through_socket, 0u) << "the first replies went out before anything was dropped";
        const std::uint64_t queued = expected - through_socket;
        EXPECT_GE(queued, 1u);
        EXPECT_LE(queued, 64u) << "no more than reply_queue_records wait in the queue";
        for (std::uint64_t i = through_socket; i < expected; ++i) {
            ASSERT_EQ(seq[i], kRequests - (expected - i))
                << "reply " << i << " of " << expected << ": the oldest must go first";
        }
        stats = channel("deaf", 0).stats();
        EXPECT_EQ(stats.replies_sent + stats.replies_dropped, kRequests);
        EXPECT_EQ(channel("deaf", 0).state(), Channel::State::Connected);
        // And it is still served normally.
        expectReply("deaf", 0, cpuPower(0, VMPOWER_SCALE_DOWN), VMPOWER_CMD_ACK);
        EXPECT_TRUE(q("deaf", 0).inbox().empty());
    }
    bystanderServed("deaf guest reads again");

    // Nobody lost a channel on the way.
    for (const char* vm : {"hostile", "bystander", "flooder", "deaf"}) {
        EXPECT_EQ(channel(vm, 0).state(), Channel::State::Connected) << vm;
        EXPECT_EQ(channel(vm, 0).stats().connects, 1u) << vm;
    }
    stopAgent();
    expectTreeAsBefore();
}

// =========================================================================
// A channel that closes mid-record.

TEST_F(RequestPath, ChannelClosedMidRecordDropsThePartialAndTheNextConnectionStartsClean) {
    // acpi-cpufreq: vCPU 0 on pCPU 1 (policy1), scaling_cur_freq 1600000.
    start("acpi-cpufreq", {{"v", {"1"}}}, "  - name: \"*\"\n");
    const Bytes max = cpuPower(0, VMPOWER_SCALE_MAX);
    ASSERT_TRUE(q("v", 0).sendAll(*agent_, Bytes(max.begin(), max.begin() + 200)));
    ASSERT_TRUE(runUntil(*agent_, [&] { return channel("v", 0).stats().bytes_in == 200; }));
    ASSERT_TRUE(q("v", 0).pump());
    EXPECT_TRUE(q("v", 0).inbox().empty()) << "no reply to 200 of 464 bytes";

    // QEMU closes; the agent drops the 200 bytes and connects again.
    q("v", 0).hangUp();
    ASSERT_TRUE(runUntil(*agent_, [&] { return q("v", 0).accept(); }))
        << "the agent did not reconnect";
    ASSERT_TRUE(runUntil(*agent_, [&] {
        return channel("v", 0).stats().connects == 2 &&
               channel("v", 0).state() == Channel::State::Connected;
    }));
    auto stats = channel("v", 0).stats();
    EXPECT_EQ(stats.partial_dropped, 1u);
    EXPECT_EQ(stats.requests.records, 0u) << "half a record is no record";
    EXPECT_EQ(changed(), std::vector<std::string>{});

    // A whole request on the new connection is itself: had the 200 stale
    // bytes been kept, the agent would see SCALE_MAX's head glued to this
    // SCALE_UP's first 264 bytes (and set 3400000).
    const Bytes up = cpuPower(0, VMPOWER_SCALE_UP);
    expectReply("v", 0, up, VMPOWER_CMD_ACK);
    const Files want{{kPolicy1 + "scaling_governor", "userspace\n"},
                     {kPolicy1 + "scaling_setspeed", "1800000\n"}};  // one step up from 1600000
    EXPECT_EQ(changed(), keys(want));
    expectFiles(want);
    // Nothing else follows (a leftover 200 bytes would complete into a
    // second record with the next write; check with one more request).
    expectReply("v", 0, cpuPower(0, VMPOWER_SCALE_DOWN), VMPOWER_CMD_ACK);
    EXPECT_EQ(fixture_->read(kPolicy1 + "scaling_setspeed"), "1600000\n");
    EXPECT_TRUE(q("v", 0).inbox().empty());
    stats = channel("v", 0).stats();
    EXPECT_EQ(stats.partial_dropped, 1u);
    EXPECT_EQ(stats.requests.records, 2u);
    EXPECT_EQ(stats.requests.acked, 2u);
    EXPECT_EQ(stats.bytes_in, 200u + 2 * kRecord);

    stopAgent();
    expectTreeAsBefore();
}

// =========================================================================
// multi_pcpu and shared_pcpus.

}  // namespace
}  // namespace vmpower::test
