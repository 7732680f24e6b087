#include "energy_accounting.h"

#include <gtest/gtest.h>

#include <numeric>

namespace vmpower {
namespace {

// One package of CPUs 0-3, 100 ticks/s: a 1 s interval holds 400 ticks.
// A 40 J delta (40 000 000 uJ) gives 100 000 uJ per tick.
constexpr double kTicksPerSecond = 100;
constexpr std::uint64_t kRange = 1'000'000'000;

EnergyPackage package(std::string name, CpuSet cpus) {
    return {std::move(name), kRange, std::move(cpus)};
}

ThreadSample vcpu(pid_t tid, unsigned index, std::uint64_t ticks, unsigned cpu) {
    return {tid, index, ticks, cpu};
}
ThreadSample own(pid_t tid, std::uint64_t ticks, unsigned cpu) {
    return {tid, std::nullopt, ticks, cpu};
}

VmSample vm(std::string uuid, std::vector<ThreadSample> threads, std::size_t vcpus = 1) {
    return {uuid, "vm-" + uuid, "pid1", vcpus, true, std::move(threads)};
}

using Readings = std::vector<std::optional<std::uint64_t>>;

class Accounting : public ::testing::Test {
  protected:
    EnergyAccounting one_{{package("package-0", CpuSet{0, 1, 2, 3})}, kTicksPerSecond};
};

TEST_F(Accounting, TheFirstSampleOnlySetsBaselines) {
    std::vector<VmSample> s = {vm("a", {vcpu(10, 0, 500, 0)})};
    one_.sample(1.0, Readings{5'000'000}, s);
    EXPECT_EQ(one_.vm("a")->energy_uj, 0u);
    EXPECT_EQ(one_.hostEnergyUj()[0], 0u);
}

TEST_F(Accounting, TwoVmsWithThreeToOneCpuTimeGetThreeToOne) {
    one_.sample(1.0, Readings{0},
                std::vector{vm("a", {vcpu(10, 0, 100, 0)}), vm("b", {vcpu(20, 0, 100, 1)})});
    one_.sample(1.0, Readings{40'000'000},
                std::vector{vm("a", {vcpu(10, 0, 160, 0)}), vm("b", {vcpu(20, 0, 120, 1)})});
    // a: 60/400 x 40 J = 6 J; b: 20/400 x 40 J = 2 J; the host the other 32 J.
    EXPECT_EQ(one_.vm("a")->energy_uj, 6'000'000u);
    EXPECT_EQ(one_.vm("b")->energy_uj, 2'000'000u);
    EXPECT_EQ(one_.hostEnergyUj()[0], 32'000'000u);
    EXPECT_DOUBLE_EQ(one_.vm("a")->power_w, 6.0);
    EXPECT_DOUBLE_EQ(one_.vm("a")->package_share[0], 0.15);
    EXPECT_EQ(one_.vm("a")->vcpu_uj[0], 6'000'000u);
    EXPECT_DOUBLE_EQ(one_.vm("a")->watched_s, 1.0);
}

TEST_F(Accounting, QemusOwnThreadsAreSharedEquallyAmongTheVcpus) {
    auto at = [](std::uint64_t v0, std::uint64_t v1, std::uint64_t io) {
        return std::vector{vm("a", {vcpu(10, 0, v0, 0), vcpu(11, 1, v1, 1), own(12, io, 2)}, 2)};
    };
    one_.sample(1.0, Readings{0}, at(0, 0, 0));
    one_.sample(1.0, Readings{40'000'000}, at(40, 0, 20));
    // vCPU 0: 40 ticks = 4 J; the I/O thread's 20 ticks = 2 J, 1 J to each vCPU.
    const VmEnergy& e = *one_.vm("a");
    EXPECT_EQ(e.energy_uj, 6'000'000u);
    ASSERT_EQ(e.vcpu_uj.size(), 2u);
    EXPECT_EQ(e.vcpu_uj[0], 5'000'000u);
    EXPECT_EQ(e.vcpu_uj[1], 1'000'000u);
}

TEST_F(Accounting, ACounterThatWrapsGivesTheEnergyAcrossTheWrap) {
    EXPECT_EQ(EnergyAccounting::counterDelta(kRange - 10'000'000, 30'000'000, kRange), 40'000'000u);
    EXPECT_EQ(EnergyAccounting::counterDelta(5, 9, kRange), 4u);
    EXPECT_EQ(EnergyAccounting::counterDelta(kRange + 5, 9, kRange), 0u) << "not our counter";
    one_.sample(1.0, Readings{kRange - 10'000'000}, std::vector{vm("a", {vcpu(10, 0, 0, 0)})});
    one_.sample(1.0, Readings{30'000'000}, std::vector{vm("a", {vcpu(10, 0, 40, 0)})});
    EXPECT_EQ(one_.vm("a")->energy_uj, 4'000'000u);
    EXPECT_EQ(one_.packageEnergyUj()[0], 40'000'000u);
}

TEST_F(Accounting, AVmThatStopsMidIntervalIsForgottenAndTheRestIsTheHosts) {
    one_.sample(1.0, Readings{0},
                std::vector{vm("a", {vcpu(10, 0, 0, 0)}), vm("b", {vcpu(20, 0, 0, 1)})});
    one_.sample(1.0, Readings{40'000'000},
                std::vector{vm("a", {vcpu(10, 0, 40, 0)}), vm("b", {vcpu(20, 0, 40, 1)})});
    // b stops: its threads are gone before the next sample.
    one_.sample(1.0, Readings{80'000'000}, std::vector{vm("a", {vcpu(10, 0, 80, 0)})});
    EXPECT_EQ(one_.vm("b"), nullptr);
    EXPECT_EQ(one_.vm("a")->energy_uj, 8'000'000u);
    // 80 J counted: a 8 J, b 4 J (first interval), the host 68 J.
    EXPECT_EQ(one_.hostEnergyUj()[0], 68'000'000u);
    EXPECT_EQ(one_.packageEnergyUj()[0], 80'000'000u);
}

TEST_F(Accounting, SharesNeverExceedWhatThePackageCounted) {
    one_.sample(1.0, Readings{0},
                std::vector{vm("a", {vcpu(10, 0, 0, 0)}), vm("b", {vcpu(20, 0, 0, 1)})});
    // 600 ticks reported against a 400-tick capacity (tick rounding).
    one_.sample(1.0, Readings{40'000'000},
                std::vector{vm("a", {vcpu(10, 0, 450, 0)}), vm("b", {vcpu(20, 0, 150, 1)})});
    EXPECT_EQ(one_.vm("a")->energy_uj + one_.vm("b")->energy_uj, 40'000'000u);
    EXPECT_EQ(one_.vm("a")->energy_uj, 30'000'000u);
    EXPECT_EQ(one_.hostEnergyUj()[0], 0u);
}

TEST_F(Accounting, AnUnreadableCounterAttributesNothingForThatInterval) {
    one_.sample(1.0, Readings{0}, std::vector{vm("a", {vcpu(10, 0, 0, 0)})});
    one_.sample(1.0, Readings{std::nullopt}, std::vector{vm("a", {vcpu(10, 0, 40, 0)})});
    EXPECT_EQ(one_.vm("a")->energy_uj, 0u);
    // Readable again: measured from the new reading, not across the gap.
    one_.sample(1.0, Readings{40'000'000}, std::vector{vm("a", {vcpu(10, 0, 80, 0)})});
    EXPECT_EQ(one_.vm("a")->energy_uj, 0u);
    one_.sample(1.0, Readings{80'000'000}, std::vector{vm("a", {vcpu(10, 0, 120, 0)})});
    EXPECT_EQ(one_.vm("a")->energy_uj, 4'000'000u);
}

TEST_F(Accounting, NewThreadsAndUnreadThreadsStartFromABaseline) {
    one_.sample(1.0, Readings{0}, std::vector{vm("a", {vcpu(10, 0, 0, 0)})});
    one_.sample(1.0, Readings{40'000'000},
                std::vector{vm("a", {vcpu(10, 0, 40, 0), own(11, 1000, 1)})});
    EXPECT_EQ(one_.vm("a")->energy_uj, 4'000'000u) << "tid 11's 1000 ticks are history";
    VmSample unread = vm("a", {});
    unread.threads_read = false;
    one_.sample(1.0, Readings{80'000'000}, std::vector{unread});
    one_.sample(1.0, Readings{120'000'000}, std::vector{vm("a", {vcpu(10, 0, 400, 0)})});
    EXPECT_EQ(one_.vm("a")->energy_uj, 4'000'000u);
}

TEST_F(Accounting, ANewRunOfTheSameVmStartsAgain) {
    one_.sample(1.0, Readings{0}, std::vector{vm("a", {vcpu(10, 0, 0, 0)})});
    one_.sample(1.0, Readings{40'000'000}, std::vector{vm("a", {vcpu(10, 0, 40, 0)})});
    VmSample again = vm("a", {vcpu(30, 0, 5, 0)});
    again.instance = "pid2";
    one_.sample(1.0, Readings{80'000'000}, std::vector{again});
    EXPECT_EQ(one_.vm("a")->energy_uj, 0u);
}

TEST_F(Accounting, TwoPackagesEachShareTheirOwnEnergy) {
    EnergyAccounting two({package("package-0", CpuSet{0, 1}), package("package-1", CpuSet{2, 3})},
                         kTicksPerSecond);
    // Capacity 200 ticks per package per second. a runs on package 0, b on 1.
    two.sample(1.0, Readings{0, 0},
               std::vector{vm("a", {vcpu(10, 0, 0, 0)}), vm("b", {vcpu(20, 0, 0, 3)})});
    two.sample(1.0, Readings{10'000'000, 30'000'000},
               std::vector{vm("a", {vcpu(10, 0, 100, 1)}), vm("b", {vcpu(20, 0, 50, 3)})});
    EXPECT_EQ(two.vm("a")->energy_uj, 5'000'000u);  // 100/200 x 10 J
    EXPECT_EQ(two.vm("b")->energy_uj, 7'500'000u);  // 50/200 x 30 J
    EXPECT_DOUBLE_EQ(two.vm("b")->package_share[1], 0.25);
    EXPECT_DOUBLE_EQ(two.vm("b")->package_share[0], 0);
    EXPECT_EQ(two.hostEnergyUj()[0], 5'000'000u);
    EXPECT_EQ(two.hostEnergyUj()[1], 22'500'000u);
}

TEST_F(Accounting, ALongerIntervalHasMoreCapacity) {
    one_.sample(2.0, Readings{0}, std::vector{vm("a", {vcpu(10, 0, 0, 0)})});
    one_.sample(2.0, Readings{80'000'000}, std::vector{vm("a", {vcpu(10, 0, 80, 0)})});
    EXPECT_EQ(one_.vm("a")->energy_uj, 8'000'000u);  // 80/800 x 80 J
    EXPECT_DOUBLE_EQ(one_.vm("a")->power_w, 4.0);
}

TEST_F(Accounting, SavedCountsContinueForTheSameRunOnly) {
    one_.sample(1.0, Readings{0},
                std::vector{vm("a", {vcpu(10, 0, 0, 0)}), vm("b", {vcpu(20, 0, 0, 1)})});
    one_.sample(1.0, Readings{40'000'000},
                std::vector{vm("a", {vcpu(10, 0, 40, 0)}), vm("b", {vcpu(20, 0, 40, 1)})});
    auto saved = one_.save();
    saved.vms["b"].instance = "an earlier run";

    EnergyAccounting restarted({package("package-0", CpuSet{0, 1, 2, 3})}, kTicksPerSecond);
    restarted.restore(saved);
    restarted.sample(1.0, Readings{50'000'000},
                     std::vector{vm("a", {vcpu(10, 0, 50, 0)}), vm("b", {vcpu(20, 0, 50, 1)})});
    restarted.sample(1.0, Readings{90'000'000},
                     std::vector{vm("a", {vcpu(10, 0, 90, 0)}), vm("b", {vcpu(20, 0, 90, 1)})});
    EXPECT_EQ(restarted.vm("a")->energy_uj, 8'000'000u);
    EXPECT_TRUE(restarted.vm("a")->gap) << "what a used while the agent was down is missing";
    EXPECT_DOUBLE_EQ(restarted.vm("a")->watched_s, 2.0);
    EXPECT_EQ(restarted.vm("b")->energy_uj, 4'000'000u);
    EXPECT_FALSE(restarted.vm("b")->gap);
}

TEST_F(Accounting, ThreadsOnCpusOfNoPackageAreTheHosts) {
    one_.sample(1.0, Readings{0}, std::vector{vm("a", {vcpu(10, 0, 0, 9)})});
    one_.sample(1.0, Readings{40'000'000}, std::vector{vm("a", {vcpu(10, 0, 40, 9)})});
    EXPECT_EQ(one_.vm("a")->energy_uj, 0u);
    EXPECT_EQ(one_.hostEnergyUj()[0], 40'000'000u);
}

// agent.energy_idle (docs/energy.md "Idle energy"): a busy VM a (one vCPU,
// 40 of 400 ticks) and an idle VM b (two vCPU threads that did not run).
class IdleEnergy : public ::testing::Test {
  protected:
    static std::vector<VmSample> at(std::uint64_t a_ticks) {
        return {vm("a", {vcpu(10, 0, a_ticks, 0)}),
                vm("b", {vcpu(20, 0, 7, 1), vcpu(21, 1, 7, 2)}, 2)};
    }
    static void run(EnergyAccounting& acc) {
        acc.sample(1.0, Readings{0}, at(0));
        acc.sample(1.0, Readings{40'000'000}, at(40));
    }
    static void expectExact(const EnergyAccounting& acc) {
        EXPECT_EQ(acc.hostEnergyUj()[0] + acc.vmsEnergyUj()[0], acc.packageEnergyUj()[0]);
        for (const auto& [uuid, e] : acc.vms())
            EXPECT_EQ(std::accumulate(e.vcpu_uj.begin(), e.vcpu_uj.end(), std::uint64_t{0}),
                      e.energy_uj)
                << uuid;
    }
};

TEST_F(IdleEnergy, HostModeAnIdleVmGetsNothing) {
    EnergyAccounting acc({package("package-0", CpuSet{0, 1, 2, 3})}, kTicksPerSecond,
                         EnergyIdle::Host);
    run(acc);
    EXPECT_EQ(acc.vm("a")->energy_uj, 4'000'000u);
    EXPECT_EQ(acc.vm("b")->energy_uj, 0u);
    EXPECT_EQ(acc.vm("b")->idle_uj, 0u);
    EXPECT_EQ(acc.hostEnergyUj()[0], 36'000'000u);
    EXPECT_EQ(acc.idleEnergyUj()[0], 0u);
    expectExact(acc);
}

TEST_F(IdleEnergy, VcpusModeSharesTheRestByVcpuThreadsOnThePackage) {
    EnergyAccounting acc({package("package-0", CpuSet{0, 1, 2, 3})}, kTicksPerSecond,
                         EnergyIdle::Vcpus);
    run(acc);
    // The 36 J no VM ran for: a has 1 vCPU thread there, b 2: 12 J and 24 J.
    EXPECT_EQ(acc.vm("a")->energy_uj, 16'000'000u);
    EXPECT_EQ(acc.vm("a")->idle_uj, 12'000'000u);
    EXPECT_EQ(acc.vm("b")->energy_uj, 24'000'000u);
    EXPECT_EQ(acc.vm("b")->idle_uj, 24'000'000u);
    EXPECT_EQ(acc.vm("b")->vcpu_uj, (std::vector<std::uint64_t>{12'000'000, 12'000'000}));
    EXPECT_DOUBLE_EQ(acc.vm("b")->package_share[0], 0.6);
    EXPECT_DOUBLE_EQ(acc.vm("b")->power_w, 24.0);
    EXPECT_EQ(acc.hostEnergyUj()[0], 0u);
    EXPECT_EQ(acc.idleEnergyUj()[0], 36'000'000u);
    expectExact(acc);
}

TEST_F(IdleEnergy, VcpusModeAPackageWithNoVcpuOnItIsTheHosts) {
    EnergyAccounting acc({package("package-0", CpuSet{0, 1}), package("package-1", CpuSet{2, 3})},
                         kTicksPerSecond, EnergyIdle::Vcpus);
    auto on0 = [](std::uint64_t ticks) { return std::vector{vm("a", {vcpu(10, 0, ticks, 1)})}; };
    acc.sample(1.0, Readings{0, 0}, on0(0));
    acc.sample(1.0, Readings{10'000'000, 30'000'000}, on0(50));
    EXPECT_EQ(acc.vm("a")->energy_uj, 10'000'000u) << "all of package 0";
    EXPECT_EQ(acc.vm("a")->idle_uj, 7'500'000u) << "50 of 200 ticks ran: 2.5 J busy";
    EXPECT_EQ(acc.hostEnergyUj()[1], 30'000'000u);
    expectExact(acc);
}

}  // namespace
}  // namespace vmpower
