#include "energy_sampler.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "sysfs_fixture.h"

namespace vmpower {
namespace {

using namespace std::chrono_literals;

// A copy of tests/fixtures/proc/qemu-tcg (pid 4242: vCPU threads 4245 and
// 4246) and a pid dir naming it, beside a powercap fixture tree.
class Sampler : public ::testing::Test {
  protected:
    void SetUp() override {
        std::filesystem::copy(VMPOWER_PROC_FIXTURES "/qemu-tcg", proc_,
                              std::filesystem::copy_options::recursive);
        std::filesystem::create_directories(pids_);
        std::ofstream(pids_ / "vm-a.pid") << "4242\n";
        settings_.sysfs_root = fx_.root();
        settings_.proc_root = proc_;
        settings_.qemu_pid_dir = pids_;
    }
    // Sets a thread's utime (stime 0) and the CPU it last ran on.
    void setThread(pid_t tid, std::uint64_t utime, unsigned cpu) {
        auto file = proc_ / "4242/task" / std::to_string(tid) / "stat";
        std::ifstream in(file);
        std::string line((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto close = line.rfind(')');
        std::istringstream rest(line.substr(close + 2));
        std::vector<std::string> fields;
        for (std::string f; rest >> f;) fields.push_back(f);
        fields[14 - 3] = std::to_string(utime);
        fields[15 - 3] = "0";
        fields[39 - 3] = std::to_string(cpu);
        std::string out = line.substr(0, close + 1);
        for (const auto& f : fields) out += " " + f;
        std::ofstream(file, std::ios::trunc) << out << '\n';
    }
    void setEnergy(std::uint64_t uj) {
        fx_.write("devices/virtual/powercap/intel-rapl/intel-rapl:0/energy_uj",
                  std::to_string(uj) + "\n");
    }
    void idleAll() {
        for (pid_t tid : {4242, 4243, 4244, 4245, 4246, 4247}) setThread(tid, 0, 0);
    }

    test::SysfsFixture fx_{"rapl-one-package"};
    std::filesystem::path proc_ = fx_.scratch("proc");
    std::filesystem::path pids_ = fx_.scratch("pids");
    EnergySettings settings_;
    ManualClock clock_;
    std::vector<WatchedDomain> domains_{{"uuid-a", "vm-a", 2}};
};

TEST_F(Sampler, ABusyVcpuGetsItsShareOfThePackage) {
    idleAll();
    setEnergy(0);
    EnergySampler s(settings_, clock_);
    ASSERT_TRUE(s.available()) << s.unavailableReason();
    s.sample(domains_);
    EXPECT_TRUE(s.vmProblems().empty()) << s.vmProblems().begin()->second;
    clock_.advance(1s);
    setThread(4245, 100, 1);  // vCPU 0: 100 of 4 CPUs x 100 ticks
    setThread(4244, 20, 2);   // the I/O thread: 20 ticks, split over both vCPUs
    setEnergy(40'000'000);
    s.sample(domains_);
    auto r = s.reading("uuid-a");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->energy_uj, 12'000'000u);  // 120/400 x 40 J
    EXPECT_EQ(r->vcpu_uj[0], 11'000'000u);
    EXPECT_EQ(r->vcpu_uj[1], 1'000'000u);
    EXPECT_EQ(r->power_mw, 12'000u);
    EXPECT_EQ(r->interval_ms, 1000u);
    EXPECT_EQ(r->watched_ms, 1000u);
    EXPECT_EQ(r->vcpu_count, 2u);
    EXPECT_FALSE(r->gap);
    EXPECT_DOUBLE_EQ(s.accounting()->hostEnergyUj()[0], 28'000'000);
}

TEST_F(Sampler, NoPowercapTreeIsUnavailableNeverZero) {
    test::SysfsFixture cpufreq_only("intel_pstate");
    settings_.sysfs_root = cpufreq_only.root();
    EnergySampler s(settings_, clock_);
    EXPECT_FALSE(s.available());
    EXPECT_NE(s.unavailableReason().find("powercap"), std::string::npos);
    s.sample(domains_);
    EXPECT_FALSE(s.reading("uuid-a"));
}

TEST_F(Sampler, AVmWithoutAPidFileIsToldAndCountsNothing) {
    std::filesystem::remove(pids_ / "vm-a.pid");
    EnergySampler s(settings_, clock_);
    s.sample(domains_);
    clock_.advance(1s);
    s.sample(domains_);
    ASSERT_EQ(s.vmProblems().count("uuid-a"), 1u);
    EXPECT_NE(s.vmProblems().at("uuid-a").find("vm-a.pid"), std::string::npos);
    ASSERT_TRUE(s.reading("uuid-a"));
    EXPECT_EQ(s.reading("uuid-a")->energy_uj, 0u);
}

TEST_F(Sampler, CountsContinueAfterARestartForTheSameQemu) {
    settings_.state_file = fx_.scratch("state") / "energy.json";
    idleAll();
    setEnergy(0);
    {
        EnergySampler s(settings_, clock_);
        s.sample(domains_);
        clock_.advance(1s);
        setThread(4245, 40, 0);
        setEnergy(40'000'000);
        s.sample(domains_);
        EXPECT_EQ(s.reading("uuid-a")->energy_uj, 4'000'000u);
    }  // saved when destroyed
    EnergySampler again(settings_, clock_);
    again.sample(domains_);
    clock_.advance(1s);
    setThread(4245, 80, 0);
    setEnergy(80'000'000);
    again.sample(domains_);
    auto r = again.reading("uuid-a");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->energy_uj, 8'000'000u);
    EXPECT_TRUE(r->gap);
    EXPECT_EQ(r->watched_ms, 2000u);
}

TEST_F(Sampler, ABadStateFileIsIgnored) {
    settings_.state_file = fx_.scratch("state") / "energy.json";
    std::ofstream(settings_.state_file) << "{\"vms\": {\"uuid-a\": {\"energy_uj\": \"lots\"}}}";
    EnergySampler s(settings_, clock_);
    s.sample(domains_);
    ASSERT_TRUE(s.reading("uuid-a"));
    EXPECT_EQ(s.reading("uuid-a")->energy_uj, 0u);
    EXPECT_FALSE(s.reading("uuid-a")->gap);
}

}  // namespace
}  // namespace vmpower
