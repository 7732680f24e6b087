// vmpower_query_energy() and `vmpower-guest energy` against a fake host:
// a vmpower host's answer (little endian), "unavailable", a NACK, and a
// DPDK host that ignores the command.
#include <gtest/gtest.h>

#include <sstream>
#include <thread>

#include "cli.h"
#include "fake_host.h"
#include "vmpower/guest.hpp"

namespace {

using vmpower::guest::Channel;
using vmpower::testing::Bytes;
using vmpower::testing::echo;
using vmpower::testing::FakeHost;
using vmpower::testing::putLe;

// A host's reply to `req`, as vmpowerd builds it: two vCPUs.
Bytes energyReply(const Bytes& req, std::uint32_t flags, std::uint64_t uj) {
    return vmpower::testing::energyReply(req, {flags, uj, 2500, {uj - 1, 1}});
}

vmpower_channel_options options(const FakeHost& host, int timeout_ms = 1000) {
    vmpower_channel_options o;
    vmpower_channel_options_init(&o);
    o.port_dir = host.portDir().c_str();
    o.timeout_ms = timeout_ms;
    return o;
}

// Answers one request with what `reply` makes of it.
template <typename F>
std::thread host(FakeHost& h, F reply) {
    return std::thread([&h, reply] {
        auto req = h.read(VMPOWER_PACKET_SIZE);
        ASSERT_TRUE(req);
        Bytes expected(VMPOWER_PACKET_SIZE, 0);
        putLe(expected, offsetof(vmpower_packet, command), VMPOWER_QUERY_ENERGY, 4);
        EXPECT_EQ(*req, expected) << "a zeroed record, command 0x100";
        if (auto r = reply(*req); !r.empty()) h.write(r);
    });
}

TEST(EnergyQuery, TheHostsAnswerIsDecoded) {
    FakeHost h;
    Channel ch(0, options(h));
    auto t = host(h, [](const Bytes& req) {
        return energyReply(req, VMPOWER_ENERGY_AVAILABLE, 0x123456789ULL);
    });
    vmpower_energy e;
    EXPECT_EQ(ch.queryEnergy(e), VMPOWER_OK);
    t.join();
    EXPECT_EQ(e.command, VMPOWER_ENERGY);
    EXPECT_EQ(e.energy_uj, 0x123456789ULL);
    EXPECT_EQ(e.num_vcpu, 2u);
    EXPECT_EQ(e.watched_ms, 2500u);
    EXPECT_EQ(e.power_mw, 1500u);
    EXPECT_EQ(e.interval_ms, 1000u);
    EXPECT_EQ(e.vcpu_energy_uj[0], 0x123456788ULL);
    EXPECT_EQ(e.vcpu_energy_uj[1], 1u);
    EXPECT_EQ(e.vcpu_energy_uj[2], 0u);
}

TEST(EnergyQuery, AHostWithoutCountersSaysUnavailable) {
    FakeHost h;
    Channel ch(0, options(h));
    auto t = host(h, [](const Bytes& req) { return energyReply(req, 0, 0); });
    vmpower_energy e;
    EXPECT_EQ(ch.queryEnergy(e), VMPOWER_ERR_UNAVAILABLE);
    t.join();
}

TEST(EnergyQuery, APolicyRefusalIsANack) {
    FakeHost h;
    Channel ch(0, options(h));
    auto t = host(h, [](const Bytes& req) { return echo(req, VMPOWER_CMD_NACK); });
    vmpower_energy e;
    EXPECT_EQ(ch.queryEnergy(e), VMPOWER_ERR_NACK);
    t.join();
}

TEST(EnergyQuery, ADpdkHostIgnoresItAndTheChannelStaysUsable) {
    FakeHost h;
    Channel ch(0, options(h, 200));
    auto t = host(h, [](const Bytes&) { return Bytes{}; });  // unknown command: no reply
    vmpower_energy e;
    EXPECT_EQ(ch.queryEnergy(e), VMPOWER_ERR_NOT_ANSWERED);
    t.join();
    EXPECT_EQ(e.energy_uj, 0u) << "zeroed, never stale";
    // The next request is served normally.
    std::thread ack([&] {
        auto req = h.read(VMPOWER_PACKET_SIZE);
        ASSERT_TRUE(req);
        h.write(echo(*req, VMPOWER_CMD_ACK));
    });
    EXPECT_EQ(ch.cpuPower(0, VMPOWER_SCALE_UP), VMPOWER_OK);
    ack.join();
}

TEST(EnergyQuery, NotInLegacyModeAndNotWithoutAnOutput) {
    FakeHost h;
    vmpower_channel_options o = options(h);
    o.legacy = true;
    Channel legacy(0, o);
    vmpower_energy e;
    EXPECT_EQ(legacy.queryEnergy(e), VMPOWER_ERR_UNSUPPORTED);
    EXPECT_EQ(vmpower_query_energy(nullptr, &e), VMPOWER_ERR_INVALID);
}

TEST(EnergyQuery, TheCliPrintsJoulesPerVcpu) {
    FakeHost h;
    auto t = host(h, [](const Bytes& req) {
        return energyReply(req, VMPOWER_ENERGY_AVAILABLE | VMPOWER_ENERGY_GAP, 12'000'345);
    });
    const char* argv[] = {"vmpower-guest", "energy", "--port-dir", h.portDir().c_str()};
    std::istringstream in;
    std::ostringstream out, err;
    int status = vmpower::guest::runCli(4, argv, in, out, err, false);
    t.join();
    EXPECT_EQ(status, 0) << err.str();
    EXPECT_EQ(out.str(),
              "energy: 12.000345 J in 2.5 s; power 1.5 W over the last 1000 ms\n"
              "vcpu 0: 12.000344 J\n"
              "vcpu 1: 0.000001 J\n"
              "note: counted across a restart of the host's agent; what the VM used meanwhile "
              "is not included\n");
}

TEST(EnergyQuery, TheCliExplainsADpdkHost) {
    FakeHost h;
    auto t = host(h, [](const Bytes&) { return Bytes{}; });
    const char* argv[] = {"vmpower-guest", "--timeout-ms", "200",
                          "energy",        "--port-dir",   h.portDir().c_str()};
    std::istringstream in;
    std::ostringstream out, err;
    EXPECT_EQ(vmpower::guest::runCli(6, argv, in, out, err, false), 2);
    t.join();
    EXPECT_NE(err.str().find("does not know this query"), std::string::npos) << err.str();
}

}  // namespace
