// Channel: a read that brings more records than the reply queue holds must
// not drop replies a reading guest would get (the queue only bounds what a
// guest that does not read leaves behind).
#include "channel.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "channel_rig.h"
#include "clock.h"
#include "temp_dir.h"
#include "test_support.h"
#include "unique_fd.h"

namespace vmpower {
namespace {

constexpr std::size_t kQueue = 8;

class ChannelTest : public ::testing::Test {
  protected:
    ChannelTest() {
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, (dir_ / "ch.0").c_str(), sizeof addr.sun_path - 1);
        listen_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        EXPECT_EQ(::bind(listen_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        EXPECT_EQ(::listen(listen_.get(), 1), 0);
        vcpus_ = VcpuMap({*CpuSet::parse("1")});
        guest_.name = "vm";
        guest_.uuid = "11111111-1111-1111-1111-111111111111";
        guest_.vcpus = &vcpus_;
    }

    // Loop turns (each bounded by a 10 ms tick) until pred() or ~5 s.
    template <typename Pred>
    bool turnUntil(Pred pred) {
        EventLoop::Timer tick([] {});
        for (int i = 0; i < 500 && !pred(); ++i) {
            tick.arm(std::chrono::milliseconds(10));
            EventLoop::runOnce();
        }
        return pred();
    }

    // Before any member that registers an fd (the loop must exist).
    static std::vector<AccessRule> unlimitedVm() {
        AccessRule rule;
        rule.name_globs = {"vm"};
        rule.requests_per_second = 0;  // unlimited
        return {rule};
    }

    testing::ChannelRig<SteadyClock> rig_{unlimitedVm(), kQueue};
    test::TempDir tmp_;
    const std::filesystem::path& dir_ = tmp_.path();
    UniqueFd listen_;
    VcpuMap vcpus_;
    GuestIdentity guest_;
};

TEST_F(ChannelTest, ManyRecordsInOneReadAreAllAnsweredToAReadingGuest) {
    PowerChannel desc;
    desc.index = 0;
    desc.type = "unix";
    desc.source_path = (dir_ / "ch.0").string();
    Channel ch(rig_.env, guest_, desc, RecordFormat::Dpdk464);
    ch.open();
    ASSERT_EQ(ch.state(), Channel::State::Connected);
    UniqueFd qemu(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    ASSERT_TRUE(qemu.valid());

    // Five times the queue in one write: one wakeup reads them all.
    constexpr std::size_t kRecords = 5 * kQueue;
    std::vector<std::byte> all;
    for (std::size_t i = 0; i < kRecords; ++i) {
        auto rec =
            testing::packet(VMPOWER_CPU_POWER, VMPOWER_SCALE_MAX, 0, "n" + std::to_string(i));
        all.insert(all.end(), rec.begin(), rec.end());
    }
    ASSERT_EQ(::send(qemu.get(), all.data(), all.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(all.size()));
    ASSERT_TRUE(turnUntil([&] { return ch.stats().requests.records == kRecords; }));

    // The socket had room for every reply: none dropped, all in order.
    std::vector<std::byte> got(all.size());
    std::size_t have = 0;
    ASSERT_TRUE(turnUntil([&] {
        ssize_t n = ::recv(qemu.get(), got.data() + have, got.size() - have, MSG_DONTWAIT);
        if (n > 0) have += static_cast<std::size_t>(n);
        return have == got.size();
    }));
    EXPECT_EQ(ch.stats().replies_dropped, 0u);
    EXPECT_EQ(ch.stats().replies_sent, kRecords);
    EXPECT_EQ(got, all) << "each ACK is its request echoed";
}

// A socket whose server is not the domain's QEMU (the pid file names pid 1)
// is refused, and the refusal counted where the agent keeps its count.
TEST_F(ChannelTest, APeerCheckRefusalIsCounted) {
    test::TempDir pid_dir;
    std::ofstream(pid_dir.path() / "vm.pid") << "1\n";
    QemuPidPeerVerifier not_us(pid_dir.path());
    std::uint64_t refusals = 0;
    ChannelEnv env{rig_.retries, rig_.handler, not_us, kQueue, nullptr, &refusals};
    PowerChannel desc;
    desc.index = 0;
    desc.type = "unix";
    desc.source_path = (dir_ / "ch.0").string();
    Channel ch(env, guest_, desc, RecordFormat::Dpdk464);
    ch.open();
    EXPECT_EQ(ch.state(), Channel::State::Refused) << ch.stats().last_error;
    EXPECT_EQ(refusals, 1u);
    ch.close();
    ch.open();  // the domain again: checked again, refused again
    EXPECT_EQ(refusals, 2u);
}

}  // namespace
}  // namespace vmpower
