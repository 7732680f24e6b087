#include "energy_sampler.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "proc_fixture.h"
#include "sysfs_fixture.h"

namespace vmpower {
namespace {

using namespace std::chrono_literals;

// A copy of tests/fixtures/proc/qemu-tcg (pid 4242: vCPU threads 4245 and
// 4246) and a pid dir naming it, beside a powercap fixture tree.
class Sampler : public ::testing::Test {
  protected:
    void SetUp() override {
        test::copyProcFixture(VMPOWER_PROC_FIXTURES "/qemu-tcg", proc_);
        std::filesystem::create_directories(pids_);
        std::ofstream(pids_ / "vm-a.pid") << "4242\n";
        settings_.sysfs_root = fx_.root();
        settings_.proc_root = proc_;
        settings_.qemu_pid_dir = pids_;
    }
    // Adds CPU time to a thread of process 4242 and says where it ran.
    void run(pid_t tid, unsigned ticks, unsigned cpu) {
        test::addTaskTicks(proc_, 4242, tid, ticks, static_cast<int>(cpu));
    }
    void setEnergy(std::uint64_t uj) {
        fx_.write("devices/virtual/powercap/intel-rapl/intel-rapl:0/energy_uj",
                  std::to_string(uj) + "\n");
    }

    test::SysfsFixture fx_{"rapl-one-package"};
    std::filesystem::path proc_ = fx_.scratch("proc");
    std::filesystem::path pids_ = fx_.scratch("pids");
    EnergySettings settings_;
    ManualClock clock_;
    std::vector<WatchedDomain> domains_{{"uuid-a", "vm-a", 2}};
};

TEST_F(Sampler, ABusyVcpuGetsItsShareOfThePackage) {
    setEnergy(0);
    EnergySampler s(settings_, clock_);
    ASSERT_TRUE(s.available()) << s.unavailableReason();
    s.sample(domains_);
    EXPECT_TRUE(s.vmProblems().empty()) << s.vmProblems().begin()->second;
    clock_.advance(1s);
    run(4245, 100, 1);  // vCPU 0: 100 of 4 CPUs x 100 ticks
    run(4244, 20, 2);   // the I/O thread: 20 ticks, split over both vCPUs
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
    EXPECT_EQ(s.accounting()->hostEnergyUj()[0], 28'000'000u);
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
    setEnergy(0);
    {
        EnergySampler s(settings_, clock_);
        s.sample(domains_);
        clock_.advance(1s);
        run(4245, 40, 0);
        setEnergy(40'000'000);
        s.sample(domains_);
        EXPECT_EQ(s.reading("uuid-a")->energy_uj, 4'000'000u);
    }  // saved when destroyed
    EnergySampler again(settings_, clock_);
    again.sample(domains_);
    clock_.advance(1s);
    run(4245, 40, 0);
    setEnergy(80'000'000);
    again.sample(domains_);
    auto r = again.reading("uuid-a");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->energy_uj, 8'000'000u);
    EXPECT_TRUE(r->gap);
    EXPECT_EQ(r->watched_ms, 2000u);
    // The package's ledger continues too: 40 J before, 40 J after.
    const EnergyAccounting& a = *again.accounting();
    EXPECT_EQ(a.packageEnergyUj()[0], 80'000'000u);
    EXPECT_EQ(a.vmsEnergyUj()[0], 8'000'000u);
    EXPECT_EQ(a.hostEnergyUj()[0] + a.vmsEnergyUj()[0], a.packageEnergyUj()[0]);
}

TEST_F(Sampler, AStateFileFromBeforeTheIntegerLedgerIsRead) {
    settings_.state_file = fx_.scratch("state") / "energy.json";
    setEnergy(0);
    {
        EnergySampler s(settings_, clock_);
        s.sample(domains_);
    }
    // As an older vmpowerd wrote it: µJ as doubles, no packages' totals.
    auto doc = nlohmann::json::parse(std::ifstream(settings_.state_file));
    auto& vm = doc["vms"]["uuid-a"];
    vm.erase("idle_uj");
    vm["energy_uj"] = 3'000'000.4;
    vm["vcpu_uj"] = {2'000'000.3, 1'000'000.1};
    doc.erase("packages");
    std::ofstream(settings_.state_file) << doc.dump();
    EnergySampler again(settings_, clock_);
    again.sample(domains_);
    auto r = again.reading("uuid-a");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->energy_uj, 3'000'000u) << "the sum of its vCPUs'";
    EXPECT_EQ(r->vcpu_uj[0], 2'000'000u);
    EXPECT_TRUE(r->gap);
    EXPECT_EQ(again.accounting()->packageEnergyUj()[0], 0u) << "its totals begin now";
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
