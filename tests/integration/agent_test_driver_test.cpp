// vmpowerd's event handling on libvirt's test driver: lifecycle events open
// and close channels, retries, peer checks, bad XML, fd hygiene.
#include <dirent.h>
#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "agent_harness.h"
#include "fake_qemu.h"
#include "power_setup.h"
#include "sysfs_fixture.h"
#include "vmpower/protocol.h"

namespace vmpower::test {
namespace {

constexpr const char* kUuid1 = "11111111-1111-1111-1111-111111111111";
constexpr const char* kUuid2 = "22222222-2222-2222-2222-222222222222";

std::size_t openFds() {
    std::size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
        (void)e;
        ++n;
    }
    return n;
}

class AgentOnTestDriver : public AgentTestDriverFixture {
  protected:
    void start(const std::string& domains, bool verify_peer = false,
               const std::string& vms = "  - name: \"*\"\n") {
        startAgent(domains, vms, verify_peer);
    }
};

TEST_F(AgentOnTestDriver, ConnectsEveryChannelOfARunningDomainAtStart) {
    FakeQemuSocket q0(path("vm1.0")), q1(path("vm1.1"));
    start(domainXml("vm1", kUuid1, channelXml(path("vm1.0"), 0) + channelXml(path("vm1.1"), 1)));
    EXPECT_TRUE(accepted(q0));
    EXPECT_TRUE(accepted(q1));
    ASSERT_NE(channel(kUuid1, 1), nullptr);
    EXPECT_EQ(channel(kUuid1, 0)->state(), Channel::State::Connected);
    EXPECT_EQ(channel(kUuid1, 1)->state(), Channel::State::Connected);
    auto state = agent_->state();
    EXPECT_EQ(state["domains"][0]["channels"][1]["state"], "connected");
}

TEST_F(AgentOnTestDriver, DestroyClosesAndCreateReconnects) {
    FakeQemuSocket q0(path("vm1.0"));
    start(domainXml("vm1", kUuid1, channelXml(path("vm1.0"), 0)));
    ASSERT_TRUE(accepted(q0));
    auto dom = lookup(*agent_, "vm1");
    ASSERT_EQ(virDomainDestroy(dom.get()), 0);
    EXPECT_TRUE(runUntil(*agent_, [&] { return q0.peerClosed(); }));
    EXPECT_EQ(agent_->registry().find(kUuid1), nullptr);
    q0.dropConnection();
    ASSERT_EQ(virDomainCreate(dom.get()), 0);
    EXPECT_TRUE(accepted(q0));
    EXPECT_EQ(channel(kUuid1, 0)->state(), Channel::State::Connected);
}

TEST_F(AgentOnTestDriver, RetriesUntilQemuListens) {
    start(domainXml("vm1", kUuid1, channelXml(path("late.0"), 0)));
    ASSERT_NE(channel(kUuid1, 0), nullptr);
    EXPECT_EQ(channel(kUuid1, 0)->state(), Channel::State::Connecting);
    runUntil(
        *agent_, [] { return false; }, std::chrono::milliseconds(300));
    FakeQemuSocket late(path("late.0"));
    EXPECT_TRUE(accepted(late));
    EXPECT_EQ(channel(kUuid1, 0)->state(), Channel::State::Connected);
}

TEST_F(AgentOnTestDriver, RefusesASocketNotServedByTheDomainsQemu) {
    // The pid file names another process: a crafted XML pointing the agent at
    // somebody else's socket must not be used.
    std::filesystem::create_directories(dir_.path() / "pids");
    writeFile(dir_.path() / "pids" / "vm1.pid", "1\n");
    writeFile(dir_.path() / "pids" / "vm2.pid", std::to_string(::getpid()) + "\n");
    FakeQemuSocket foreign(path("vm1.0")), own(path("vm2.0"));
    start(domainXml("vm1", kUuid1, channelXml(path("vm1.0"), 0)) +
              domainXml("vm2", kUuid2, channelXml(path("vm2.0"), 0)),
          /*verify_peer=*/true);
    ASSERT_TRUE(accepted(own));
    EXPECT_EQ(channel(kUuid2, 0)->state(), Channel::State::Connected);
    ASSERT_TRUE(
        runUntil(*agent_, [&] { return channel(kUuid1, 0)->state() == Channel::State::Refused; }));
    EXPECT_NE(channel(kUuid1, 0)->stats().last_error.find("not by the domain's QEMU"),
              std::string::npos);
    EXPECT_EQ(agent_->telemetry().peer_check_refusals, 1u) << "vmpower_peer_check_refusals_total";
}

TEST_F(AgentOnTestDriver, ARefusedChannelIsExaminedAgainWhenItsDomainChanges) {
    std::filesystem::create_directories(dir_.path() / "pids");
    writeFile(dir_.path() / "pids" / "vm1.pid", "1\n");  // somebody else's pid
    FakeQemuSocket q0(path("vm1.0"));
    start(domainXml("vm1", kUuid1, channelXml(path("vm1.0"), 0)), /*verify_peer=*/true);
    ASSERT_TRUE(
        runUntil(*agent_, [&] { return channel(kUuid1, 0)->state() == Channel::State::Refused; }));
    // The pid file is fixed (QEMU restarted, libvirt rewrote it); the next
    // change of the domain examines the socket again.
    writeFile(dir_.path() / "pids" / "vm1.pid", std::to_string(::getpid()) + "\n");
    agent_->registry().onEvent(kUuid1, DomainChanged{});
    EXPECT_TRUE(accepted(q0));
    EXPECT_TRUE(runUntil(*agent_,
                         [&] { return channel(kUuid1, 0)->state() == Channel::State::Connected; }));
}

TEST_F(AgentOnTestDriver, BadChannelsAreReportedAndOtherDomainsKeepWorking) {
    std::string long_path = "/tmp/" + std::string(120, 'x');
    FakeQemuSocket good(path("good.0"));
    start(domainXml("bad", kUuid1,
                    channelXml(long_path, 0) + channelXml(path("nodir/sub/x.1"), 1) +
                        "<channel type='pty'><target type='virtio' "
                        "name='virtio.serial.port.poweragent.2'/></channel>") +
          domainXml("good", kUuid2, channelXml(path("good.0"), 0)));
    EXPECT_TRUE(accepted(good));
    const Domain* bad = agent_->registry().find(kUuid1);
    ASSERT_NE(bad, nullptr);
    // The pty channel and the over-long path are problems, not channels.
    EXPECT_FALSE(bad->problems.empty());
    EXPECT_EQ(bad->channels.count(2), 0u);
    ASSERT_NE(channel(kUuid1, 1), nullptr);
    EXPECT_EQ(channel(kUuid1, 1)->state(), Channel::State::Connecting);  // dir missing: retry
}

TEST_F(AgentOnTestDriver, ConnectModeChannelIsAProblemNotARetryLoop) {
    start(domainXml("vm1", kUuid1,
                    "<channel type='unix'><source mode='connect' path='" + path("c.0") +
                        "'/><target type='virtio' name='virtio.serial.port.poweragent.0'/>"
                        "</channel>"));
    const Domain* d = agent_->registry().find(kUuid1);
    ASSERT_NE(d, nullptr);
    EXPECT_TRUE(d->channels.empty());
    ASSERT_EQ(d->problems.size(), 1u);
    EXPECT_NE(d->problems[0].find("mode='connect'"), std::string::npos);
}

TEST_F(AgentOnTestDriver, TunableEventUpdatesTheFullCpuSet) {
    FakeQemuSocket q0(path("vm1.0"));
    start(domainXml("vm1", kUuid1, channelXml(path("vm1.0"), 0)));
    // The test driver emits no TUNABLE events: inject one as libvirt would.
    agent_->hypervisor().handleTunable(
        kUuid1, {{"cputune.vcpupin1", "2-3,5"}, {"cputune.emulatorpin", "0"}});
    const Domain* d = agent_->registry().find(kUuid1);
    EXPECT_EQ(d->vcpus.pcpus(1).toString(), "2-3,5");
    EXPECT_EQ(d->emulator_pcpus.toString(), "0");
    agent_->hypervisor().handleTunable(kUuid1, {{"cputune.vcpupin0", "garbage"}});
    EXPECT_FALSE(d->vcpus.pcpus(0).empty());  // unchanged
    EXPECT_NE(d->vcpus.pcpus(0).toString(), "");
}

TEST_F(AgentOnTestDriver, ServesARequestOverTheChannel) {
    FakeQemuSocket q0(path("vm1.0"));
    start(domainXml("vm1", kUuid1, channelXml(path("vm1.0"), 0)));
    ASSERT_TRUE(accepted(q0));
    auto dom = lookup(*agent_, "vm1");
    unsigned char map = 0x02;  // vCPU 0 -> pCPU 1
    ASSERT_EQ(virDomainPinVcpu(dom.get(), 0, &map, 1), 0);
    agent_->hypervisor().handleTunable(kUuid1, {{"cputune.vcpupin0", "1"}});
    vmpower_packet pkt{};
    pkt.command = VMPOWER_CPU_POWER;
    pkt.unit = VMPOWER_SCALE_MIN;
    pkt.resource_id = 0;
    q0.sendRaw(&pkt, sizeof pkt);
    std::vector<std::byte> reply;
    ASSERT_TRUE(runUntil(*agent_, [&] {
        auto got = q0.receiveAvailable();
        reply.insert(reply.end(), got.begin(), got.end());
        return reply.size() >= sizeof pkt;
    }));
    vmpower_packet ack{};
    std::memcpy(&ack, reply.data(), sizeof ack);
    EXPECT_EQ(ack.command, VMPOWER_CMD_ACK);
    EXPECT_EQ(channel(kUuid1, 0)->stats().requests.acked, 1u);
}

TEST_F(AgentOnTestDriver, NoFdLeakOverManyStartStopCycles) {
    FakeQemuSocket q0(path("vm1.0"));
    start(domainXml("vm1", kUuid1, channelXml(path("vm1.0"), 0)));
    ASSERT_TRUE(accepted(q0));
    auto dom = lookup(*agent_, "vm1");
    q0.dropConnection();
    std::size_t before = openFds();
    for (int i = 0; i < 1000; ++i) {
        ASSERT_EQ(virDomainDestroy(dom.get()), 0);
        ASSERT_TRUE(runUntil(*agent_, [&] { return agent_->registry().find(kUuid1) == nullptr; }));
        ASSERT_EQ(virDomainCreate(dom.get()), 0);
        ASSERT_TRUE(accepted(q0));
        q0.dropConnection();
    }
    runUntil(
        *agent_, [] { return false; }, std::chrono::milliseconds(50));
    EXPECT_LE(openFds(), before + 1);
}

}  // namespace
}  // namespace vmpower::test
