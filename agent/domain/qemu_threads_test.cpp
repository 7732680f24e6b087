#include "qemu_threads.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "temp_dir.h"

namespace vmpower {
namespace {

const std::filesystem::path kFixture = VMPOWER_PROC_FIXTURES "/qemu-tcg";

std::string line(std::string_view comm, unsigned utime, unsigned stime, unsigned cpu) {
    std::string s = "77 (" + std::string(comm) + ") R 1 1 1 0 -1 0 0 0 0 0 " +
                    std::to_string(utime) + " " + std::to_string(stime) + " 0 0 20 0 1 0 5 0 0 0";
    for (int field = 26; field <= 38; ++field) s += " 0";
    return s + " " + std::to_string(cpu) + " 0 0 0 0 0\n";
}

TEST(TaskStat, ReadsTimesAndTheLastCpu) {
    auto s = parseTaskStat(line("CPU 0/KVM", 700, 50, 6));
    ASSERT_TRUE(s);
    EXPECT_EQ(s->comm, "CPU 0/KVM");
    EXPECT_EQ(s->cpu_ticks, 750u);
    EXPECT_EQ(s->processor, 6u);
    EXPECT_EQ(s->start_ticks, 5u);
}

TEST(TaskStat, CountsFieldsFromTheLastParenthesis) {
    // A name that looks like more fields must not shift them.
    auto s = parseTaskStat(line("a) S 1 2 3 (b", 4, 5, 1));
    ASSERT_TRUE(s);
    EXPECT_EQ(s->comm, "a) S 1 2 3 (b");
    EXPECT_EQ(s->cpu_ticks, 9u);
    EXPECT_EQ(s->processor, 1u);
}

TEST(TaskStat, RefusesWhatIsNotAWholeStatLine) {
    EXPECT_FALSE(parseTaskStat(""));
    EXPECT_FALSE(parseTaskStat("77 (x R 1"));
    EXPECT_FALSE(parseTaskStat("77 x) R 1 1 1"));
    std::string cut = line("CPU 0/TCG", 1, 1, 1);
    EXPECT_FALSE(parseTaskStat(cut.substr(0, cut.size() / 2))) << "fields missing";
    std::string bad = line("CPU 0/TCG", 1, 1, 1);
    bad.replace(bad.find(" 1 1 0 0 20"), 4, " x 1");  // utime not a number
    EXPECT_FALSE(parseTaskStat(bad)) << bad;
    EXPECT_FALSE(parseTaskStat("1 (a) R 1 1 1 0 -1 0 0 0 0 0 18446744073709551615 1 0"));
}

TEST(TaskStat, RefusesTimesThatOverflowTheirSum) {
    std::string s = line("x", 0, 0, 0);
    s.replace(s.find(" 0 0 0 0 20"), 4, " 18446744073709551615 1");
    EXPECT_FALSE(parseTaskStat(s)) << s;
}

TEST(ThreadName, TellsVcpuThreadsFromQemusOwn) {
    EXPECT_EQ(vcpuOfThreadName("CPU 0/KVM"), 0u);
    EXPECT_EQ(vcpuOfThreadName("CPU 12/TCG"), 12u);
    EXPECT_FALSE(vcpuOfThreadName("qemu-system-x86"));
    EXPECT_FALSE(vcpuOfThreadName("IO mon_iothread"));
    EXPECT_FALSE(vcpuOfThreadName("CPU /KVM"));
    EXPECT_FALSE(vcpuOfThreadName("CPU 1/HVF"));
    EXPECT_FALSE(vcpuOfThreadName("CPU -1/KVM"));
    EXPECT_FALSE(vcpuOfThreadName("CPU 1x/KVM"));
    EXPECT_FALSE(vcpuOfThreadName("CPU 01/TCG")) << "not how QEMU names it";
    EXPECT_FALSE(vcpuOfThreadName("CPU +1/TCG"));
    EXPECT_FALSE(vcpuOfThreadName("CPU 99999999999/KVM"));
    EXPECT_FALSE(vcpuOfThreadName("CPU 9999999/KVM")) << "no guest has that many vCPUs";
    EXPECT_EQ(vcpuOfThreadName("CPU 4095/KVM"), 4095u);
}

TEST(QemuThreadsReader, ReadsEveryThreadOfTheFixtureProcess) {
    QemuThreads t = readQemuThreads(kFixture, 4242);
    ASSERT_TRUE(t.error.empty()) << t.error;
    ASSERT_EQ(t.threads.size(), 6u);
    EXPECT_EQ(t.threads[0].tid, 4242);
    EXPECT_FALSE(t.threads[0].vcpu);
    EXPECT_EQ(t.threads[0].stat.cpu_ticks, 150u);
    EXPECT_EQ(t.threads[3].tid, 4245);
    EXPECT_EQ(t.threads[3].vcpu, 0u);
    EXPECT_EQ(t.threads[3].stat.cpu_ticks, 750u);
    EXPECT_EQ(t.threads[3].stat.processor, 2u);
    EXPECT_EQ(t.threads[4].vcpu, 1u);
    EXPECT_EQ(t.threads[5].stat.comm, "worker) (x");
    EXPECT_EQ(vcpuThreadIds(t), (std::vector<pid_t>{4245, 4246}));
}

TEST(QemuThreadsReader, SaysWhyAProcessCannotBeRead) {
    QemuThreads t = readQemuThreads(kFixture, 999);
    EXPECT_TRUE(t.threads.empty());
    EXPECT_NE(t.error.find("999/task"), std::string::npos) << t.error;
}

TEST(QemuThreadsReader, SkipsThreadsThatExitedOrAreUnreadable) {
    test::TempDir dir;
    std::filesystem::copy(kFixture, dir.path(), std::filesystem::copy_options::recursive);
    std::filesystem::remove(dir / "4242/task/4243/stat");       // exited mid-read
    std::ofstream(dir / "4242/task/4244/stat") << "garbage";    // not a stat line
    std::filesystem::create_directory(dir / "4242/task/self");  // not a thread id
    QemuThreads t = readQemuThreads(dir.path(), 4242);
    ASSERT_TRUE(t.error.empty()) << t.error;
    ASSERT_EQ(t.threads.size(), 4u);
    EXPECT_EQ(vcpuThreadIds(t), (std::vector<pid_t>{4245, 4246}));
}

TEST(QemuThreadsReader, VcpuIdsLeaveGapsAsZero) {
    QemuThreads t;
    t.threads.push_back({10, 2u, {}});
    t.threads.push_back({11, std::nullopt, {}});
    EXPECT_EQ(vcpuThreadIds(t), (std::vector<pid_t>{0, 0, 10}));
}

}  // namespace
}  // namespace vmpower
