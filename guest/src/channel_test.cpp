// Round trips through a real fd: the library opens a pty standing in for the
// virtio port, a "host" thread reads the requests and replies.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <thread>

#include "fake_host.h"
#include "vmpower/guest.hpp"

namespace {

using vmpower::guest::Channel;
using vmpower::testing::Bytes;
using vmpower::testing::capsList;
using vmpower::testing::echo;
using vmpower::testing::FakeHost;
using vmpower::testing::freqList;
using vmpower::testing::request;

vmpower_channel_options options(const FakeHost& host, int timeout_ms = 1000, bool legacy = false) {
    vmpower_channel_options o;
    vmpower_channel_options_init(&o);
    o.port_dir = host.portDir().c_str();
    o.timeout_ms = timeout_ms;
    o.legacy = legacy;
    return o;
}

void sleepMs(int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

TEST(ChannelTest, AckedRequestSendsTheDpdkRecord) {
    FakeHost host(1);
    Channel ch(1, options(host));
    ASSERT_TRUE(ch.isOpen());
    std::thread t([&] {
        auto req = host.read(VMPOWER_PACKET_SIZE);
        ASSERT_TRUE(req);
        EXPECT_EQ(*req, request(1, VMPOWER_SCALE_UP, VMPOWER_CPU_POWER));
        host.write(echo(*req, VMPOWER_CMD_ACK));
    });
    EXPECT_EQ(ch.cpuPower(1, VMPOWER_SCALE_UP), VMPOWER_OK);
    t.join();
}

TEST(ChannelTest, NackIsReported) {
    FakeHost host;
    Channel ch(0, options(host));
    std::thread t([&] {
        auto req = host.read(VMPOWER_PACKET_SIZE);
        ASSERT_TRUE(req);
        host.write(echo(*req, VMPOWER_CMD_NACK));
    });
    EXPECT_EQ(ch.cpuPower(0, VMPOWER_SCALE_DOWN), VMPOWER_ERR_NACK);
    t.join();
}

TEST(ChannelTest, NoReplyTimesOut) {
    FakeHost host;
    Channel ch(0, options(host, 100));
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(ch.cpuPower(0, VMPOWER_SCALE_MAX), VMPOWER_ERR_TIMEOUT);
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
    EXPECT_TRUE(host.read(VMPOWER_PACKET_SIZE));  // it was sent
}

TEST(ChannelTest, HostNotConnected) {
    FakeHost host;
    Channel ch(0, options(host));
    host.hangUp();
    EXPECT_EQ(ch.cpuPower(0, VMPOWER_SCALE_UP), VMPOWER_ERR_NOT_CONNECTED);
}

TEST(ChannelTest, HostHangsUpWhileWeWait) {
    FakeHost host;
    Channel ch(0, options(host, 2000));
    std::thread t([&] {
        ASSERT_TRUE(host.read(VMPOWER_PACKET_SIZE));
        host.hangUp();
    });
    EXPECT_EQ(ch.cpuPower(0, VMPOWER_SCALE_UP), VMPOWER_ERR_NOT_CONNECTED);
    t.join();
}

TEST(ChannelTest, LateReplyBeforeTheAnswerIsSkipped) {
    FakeHost host;
    Channel ch(0, options(host, 150));
    EXPECT_EQ(ch.cpuPower(0, VMPOWER_SCALE_DOWN), VMPOWER_ERR_TIMEOUT);
    auto first = host.read(VMPOWER_PACKET_SIZE);
    ASSERT_TRUE(first);
    ch = Channel(0, options(host, 1000));  // reopening must not matter either
    std::thread t([&] {
        auto second = host.read(VMPOWER_PACKET_SIZE);
        ASSERT_TRUE(second);
        host.write(echo(*first, VMPOWER_CMD_ACK));    // late ACK of "down"
        host.write(echo(*second, VMPOWER_CMD_NACK));  // the answer to "up"
    });
    EXPECT_EQ(ch.cpuPower(0, VMPOWER_SCALE_UP), VMPOWER_ERR_NACK);
    EXPECT_EQ(ch.discarded(), 1u);
    t.join();
}

TEST(ChannelTest, LateReplyAlreadyWaitingIsDrained) {
    FakeHost host;
    Channel ch(0, options(host, 100));
    EXPECT_EQ(ch.cpuPower(0, VMPOWER_SCALE_UP), VMPOWER_ERR_TIMEOUT);
    auto first = host.read(VMPOWER_PACKET_SIZE);
    ASSERT_TRUE(first);
    host.write(echo(*first, VMPOWER_CMD_ACK));  // late, and the same key
    ASSERT_TRUE(host.waitGuestPending(VMPOWER_PACKET_SIZE));
    std::thread t([&] {
        auto second = host.read(VMPOWER_PACKET_SIZE);
        ASSERT_TRUE(second);
        host.write(echo(*second, VMPOWER_CMD_NACK));
    });
    EXPECT_EQ(ch.cpuPower(0, VMPOWER_SCALE_UP), VMPOWER_ERR_NACK);
    EXPECT_EQ(ch.discarded(), 1u);
    t.join();
}

TEST(ChannelTest, SplitReplyIsReassembled) {
    FakeHost host;
    Channel ch(0, options(host));
    std::thread t([&] {
        auto req = host.read(VMPOWER_PACKET_SIZE);
        ASSERT_TRUE(req);
        Bytes ack = echo(*req, VMPOWER_CMD_ACK);
        host.write(Bytes(ack.begin(), ack.begin() + 10));  // not even a header
        sleepMs(30);
        host.write(Bytes(ack.begin() + 10, ack.begin() + 300));
        sleepMs(30);
        host.write(Bytes(ack.begin() + 300, ack.end()));
    });
    EXPECT_EQ(ch.cpuPower(0, VMPOWER_ENABLE_TURBO), VMPOWER_OK);
    EXPECT_EQ(ch.discarded(), 0u);
    t.join();
}

TEST(ChannelTest, UnknownRecordIsDiscarded) {
    FakeHost host;
    Channel ch(0, options(host));
    std::thread t([&] {
        auto req = host.read(VMPOWER_PACKET_SIZE);
        ASSERT_TRUE(req);
        host.write(request(0, 1, 99));
        EXPECT_TRUE(host.waitGuestPending(0));  // read apart from the ACK
        host.write(echo(*req, VMPOWER_CMD_ACK));
    });
    EXPECT_EQ(ch.cpuPower(0, VMPOWER_SCALE_UP), VMPOWER_OK);
    EXPECT_EQ(ch.discarded(), 1u);
    t.join();
}

TEST(ChannelTest, QueryFreqListReply) {
    FakeHost host;
    Channel ch(0, options(host));
    std::thread t([&] {
        auto req = host.read(VMPOWER_PACKET_SIZE);
        ASSERT_TRUE(req);
        EXPECT_EQ(*req, request(0, 0, VMPOWER_QUERY_FREQ_LIST));
        host.write(freqList(0, 0, 2, 1000000));
    });
    vmpower_freq_list reply;
    ASSERT_EQ(ch.queryFreq(0, true, reply), VMPOWER_OK);
    EXPECT_EQ(reply.num_vcpu, 2);
    EXPECT_EQ(reply.freq_list[1], 1000001u);
    t.join();
}

TEST(ChannelTest, QueryCapsSkipsAStaleFreqReply) {
    FakeHost host(3);
    Channel ch(3, options(host));
    std::thread t([&] {
        auto req = host.read(VMPOWER_PACKET_SIZE);
        ASSERT_TRUE(req);
        EXPECT_EQ(*req, request(3, 0, VMPOWER_QUERY_CAPS));
        host.write(freqList(3, 0, 4, 1));  // answers an older query
        host.write(capsList(3, 0, 200));   // claims 200 vCPUs
    });
    vmpower_caps_list reply;
    ASSERT_EQ(ch.queryCaps(3, false, reply), VMPOWER_OK);
    EXPECT_EQ(reply.turbo[1], 1u);
    EXPECT_EQ(reply.num_vcpu, VMPOWER_MAX_VCPU_PER_VM);  // bounded
    EXPECT_EQ(ch.discarded(), 1u);
    t.join();
}

TEST(ChannelTest, QueryNackIsReported) {
    FakeHost host;
    Channel ch(0, options(host));
    std::thread t([&] {
        auto req = host.read(VMPOWER_PACKET_SIZE);
        ASSERT_TRUE(req);
        host.write(echo(*req, VMPOWER_CMD_NACK));
    });
    vmpower_freq_list reply;
    EXPECT_EQ(ch.queryFreq(0, false, reply), VMPOWER_ERR_NACK);
    t.join();
}

TEST(ChannelTest, LegacyRecordsAre16Bytes) {
    FakeHost host;
    Channel ch(0, options(host, 1000, true));
    std::thread t([&] {
        auto req = host.read(VMPOWER_PACKET_V1_SIZE);
        ASSERT_TRUE(req);
        Bytes expected = request(0, VMPOWER_SCALE_MIN, VMPOWER_CPU_POWER);
        expected.resize(VMPOWER_PACKET_V1_SIZE);
        EXPECT_EQ(*req, expected);
        host.write(echo(*req, VMPOWER_CMD_ACK));
    });
    EXPECT_EQ(ch.cpuPower(0, VMPOWER_SCALE_MIN), VMPOWER_OK);
    vmpower_freq_list reply;
    EXPECT_EQ(ch.queryFreq(0, true, reply), VMPOWER_ERR_UNSUPPORTED);
    t.join();
}

TEST(ChannelTest, MissingPortAndBadArguments) {
    FakeHost host;
    Channel missing(5, options(host));
    EXPECT_FALSE(missing.isOpen());
    EXPECT_EQ(missing.openStatus(), VMPOWER_ERR_NO_PORT);
    EXPECT_EQ(missing.cpuPower(5, VMPOWER_SCALE_UP), VMPOWER_ERR_NO_PORT);

    Channel ch(0, options(host));
    EXPECT_EQ(ch.cpuPower(0, static_cast<vmpower_unit>(7)), VMPOWER_ERR_INVALID);
    vmpower_freq_list reply;
    EXPECT_EQ(ch.queryFreq(8, false, reply), VMPOWER_ERR_INVALID);  // beyond the reply array
}

TEST(ChannelTest, PortDirFromEnvironment) {
    FakeHost host;
    setenv(VMPOWER_PORT_DIR_ENV, host.portDir().c_str(), 1);
    vmpower_channel_options o;
    vmpower_channel_options_init(&o);
    Channel ch(0, o);
    unsetenv(VMPOWER_PORT_DIR_ENV);
    EXPECT_TRUE(ch.isOpen());
}

TEST(ChannelTest, OneShotSetCpuFreq) {
    FakeHost host(2);
    std::thread t([&] {
        auto req = host.read(VMPOWER_PACKET_SIZE);
        ASSERT_TRUE(req);
        host.write(echo(*req, VMPOWER_CMD_ACK));
    });
    auto o = options(host);
    EXPECT_EQ(vmpower_set_cpu_freq(2, VMPOWER_SCALE_DOWN, &o), VMPOWER_OK);
    t.join();
}

TEST(ChannelTest, EveryStatusHasAMessage) {
    for (int s = VMPOWER_OK; s <= VMPOWER_ERR_UNAVAILABLE; ++s)
        EXPECT_STRNE(vmpower_strerror(static_cast<vmpower_status>(s)), "unknown vmpower status");
    EXPECT_NE(std::string(vmpower_strerror(VMPOWER_ERR_NOT_CONNECTED)).find("not connected"),
              std::string::npos);
}

}  // namespace
