// The CLI end to end against a fake host: arguments, output, exit statuses.
#include "cli.h"

#include <gtest/gtest.h>

#include <sstream>
#include <thread>
#include <vector>

#include "fake_host.h"
#include "session.h"

namespace {

using vmpower::testing::echo;
using vmpower::testing::FakeHost;
using vmpower::testing::freqList;

struct Outcome {
    int status;
    std::string out, err;
};

Outcome run(std::vector<std::string> args, const std::string& input = "", bool tty = false) {
    std::vector<const char*> argv{"vmpower-guest"};
    for (const auto& a : args) argv.push_back(a.c_str());
    std::istringstream in(input);
    std::ostringstream out, err;
    int status =
        vmpower::guest::runCli(static_cast<int>(argv.size()), argv.data(), in, out, err, tty);
    return {status, out.str(), err.str()};
}

// Answers `n` requests with `command` (ACK/NACK) in a thread.
std::thread answer(FakeHost& host, int n, std::uint32_t command) {
    return std::thread([&host, n, command] {
        for (int i = 0; i < n; ++i) {
            auto req = host.read(VMPOWER_PACKET_SIZE);
            ASSERT_TRUE(req);
            host.write(echo(*req, command));
        }
    });
}

TEST(CliTest, AckIsExit0) {
    FakeHost host;
    auto t = answer(host, 1, VMPOWER_CMD_ACK);
    Outcome r = run({"set-cpu-freq", "0", "down", "--port-dir", host.portDir()});
    t.join();
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "ACK: core 0 down\n");
}

TEST(CliTest, NackIsExit1) {
    FakeHost host(1);
    auto t = answer(host, 1, VMPOWER_CMD_NACK);
    Outcome r = run({"--port-dir", host.portDir(), "set-cpu-freq", "1", "max"});
    t.join();
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.out.find("NACK"), std::string::npos);
}

TEST(CliTest, ErrorsAreExit2WithAMessage) {
    FakeHost host;
    Outcome r =
        run({"set-cpu-freq", "0", "up", "--port-dir", host.portDir(), "--timeout-ms", "50"});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("no reply from the host before the timeout (50 ms)"), std::string::npos)
        << r.err;

    r = run({"set-cpu-freq", "4", "up", "--port-dir", host.portDir()});
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("virtio.serial.port.poweragent.4: no such power channel port"),
              std::string::npos)
        << r.err;
}

TEST(CliTest, HostGoneBetweenCommands) {
    // A pty cannot be opened once its master is gone, unlike a virtio port:
    // hang up while the session holds the port open.
    FakeHost host;
    std::thread t([&] {
        auto req = host.read(VMPOWER_PACKET_SIZE);
        ASSERT_TRUE(req);
        host.write(echo(*req, VMPOWER_CMD_ACK));
        EXPECT_TRUE(host.read(VMPOWER_PACKET_SIZE));  // the second, never answered
        host.hangUp();
    });
    Outcome r = run({"--port-dir", host.portDir()}, "set_cpu_freq 0 down\nset_cpu_freq 0 up\n");
    t.join();
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.out, "ACK: core 0 down\n");
    EXPECT_NE(r.err.find("host side not connected"), std::string::npos) << r.err;
}

TEST(CliTest, UsageErrorsAreExit2) {
    EXPECT_EQ(run({"set-cpu-freq", "0"}).status, 2);
    EXPECT_EQ(run({"set-cpu-freq", "0", "sideways"}).status, 2);
    EXPECT_EQ(run({"query-freq", "x"}).status, 2);
    EXPECT_EQ(run({"fly"}).status, 2);
    EXPECT_EQ(run({"--timeout-ms", "0", "query-freq", "all"}).status, 2);
    Outcome help = run({"--help"});
    EXPECT_EQ(help.status, 0);
    EXPECT_NE(help.out.find("set-cpu-freq"), std::string::npos);
}

TEST(CliTest, QueryFreqAll) {
    FakeHost host;
    std::thread t([&] {
        ASSERT_TRUE(host.read(VMPOWER_PACKET_SIZE));
        host.write(freqList(0, 0, 2, 2000000));
    });
    Outcome r = run({"query-freq", "all", "--port-dir", host.portDir()});
    t.join();
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "core 0: 2000000 kHz\ncore 1: 2000001 kHz\n");
}

TEST(CliTest, CommandsOnStdinReturnTheWorstStatus) {
    FakeHost host;
    std::thread t([&] {
        auto a = host.read(VMPOWER_PACKET_SIZE);
        ASSERT_TRUE(a);
        host.write(echo(*a, VMPOWER_CMD_ACK));
        auto b = host.read(VMPOWER_PACKET_SIZE);
        ASSERT_TRUE(b);
        host.write(echo(*b, VMPOWER_CMD_NACK));
    });
    Outcome r = run({"--port-dir", host.portDir()},
                    "set_cpu_freq 0 down\n\nset_cpu_freq 0 up\nquit\nset_cpu_freq 0 max\n");
    t.join();
    EXPECT_EQ(r.status, 1) << r.err;
    EXPECT_EQ(r.out, "ACK: core 0 down\nNACK: the host refused the request (NACK)\n");
}

TEST(CliTest, PromptAndHelpOnATerminal) {
    Outcome r = run({}, "help\nbogus\n", true);
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.out.rfind("vm_power(guest)> commands:\n  set_cpu_freq {core_num}", 0), 0u) << r.out;
    EXPECT_NE(r.err.find("unknown command 'bogus'"), std::string::npos);
}

}  // namespace
