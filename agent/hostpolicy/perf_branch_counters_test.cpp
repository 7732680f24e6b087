// The real branch counters on this host: a thread of our own named as QEMU
// names a vCPU thread, found through a pid file like libvirt's. Where the
// host has hardware branch events they count; where it has none (as in
// most VMs) open() refuses and says why. Which one applies is asked of the
// kernel directly, so the test checks the truth of the host it runs on.

#include "perf_branch_counters.h"

#include <gtest/gtest.h>
#include <linux/perf_event.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "temp_dir.h"

namespace vmpower {
namespace {

bool hostHasBranchEvents() {
    perf_event_attr attr{};
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_HARDWARE;
    attr.config = PERF_COUNT_HW_BRANCH_INSTRUCTIONS;
    const long fd = ::syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
    if (fd >= 0) ::close(static_cast<int>(fd));
    return fd >= 0;
}

TEST(PerfBranchCounters, CountsAVcpuThreadOrSaysWhyNot) {
    test::TempDir dir;
    std::ofstream(dir.path() / "vm1.pid") << ::getpid();
    std::atomic<bool> named = false, stop = false;
    std::thread vcpu([&] {
        ::prctl(PR_SET_NAME, "CPU 0/KVM");
        named = true;
        volatile unsigned x = 0;
        while (!stop) x = x + (x % 7 == 3 ? 1 : 2);  // branches to count
    });
    while (!named) std::this_thread::yield();

    PerfBranchCounters counters(dir.path(), "/proc");
    EXPECT_EQ(counters.open("u1", "vm1", {1}).reason().rfind("no thread of QEMU", 0), 0u)
        << "vCPU 1 has no thread";
    EXPECT_EQ(counters.open("u1", "nothere", {0}).reason().rfind("QEMU's pid is unknown", 0), 0u);
    const std::string why = counters.open("u1", "vm1", {0}).reason();
    if (hostHasBranchEvents()) {
        EXPECT_EQ(why, "");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        auto c = counters.read("u1");
        ASSERT_TRUE(c);
        EXPECT_GT(c->branches, 0u);
        EXPECT_LE(c->misses, c->branches);
    } else {
        EXPECT_NE(why.find("perf_event_open for vCPU 0's thread"), std::string::npos) << why;
        EXPECT_NE(why.find("no hardware branch counters"), std::string::npos) << why;
        EXPECT_FALSE(counters.read("u1"));
    }
    counters.close("u1");
    EXPECT_FALSE(counters.read("u1"));
    stop = true;
    vcpu.join();
}

}  // namespace
}  // namespace vmpower
