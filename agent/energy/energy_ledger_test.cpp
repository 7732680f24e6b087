#include "energy_ledger.h"

#include <gtest/gtest.h>

#include <numeric>
#include <random>

#include "ledger_world.h"

namespace vmpower {
namespace {

std::uint64_t sum(const std::vector<std::uint64_t>& v) {
    return std::accumulate(v.begin(), v.end(), std::uint64_t{0});
}

TEST(Ledger, LargestRemainderAddsUpExactly) {
    EXPECT_EQ(splitByWeight(10, std::vector<std::uint64_t>{1, 1, 1}),
              (std::vector<std::uint64_t>{4, 3, 3}))
        << "the tie goes to the lower index";
    EXPECT_EQ(splitByWeight(7, std::vector<std::uint64_t>{1, 2}),
              (std::vector<std::uint64_t>{2, 5}));
    EXPECT_EQ(splitByWeight(5, std::vector<std::uint64_t>{0, 0}),
              (std::vector<std::uint64_t>{3, 2}))
        << "no weight: an equal split";
    EXPECT_TRUE(splitByWeight(5, std::vector<std::uint64_t>{}).empty());
    const std::vector<std::uint64_t> huge = {UINT64_MAX, UINT64_MAX, 1};
    EXPECT_EQ(sum(splitByWeight(UINT64_MAX, huge)), UINT64_MAX);
    const std::vector<Uint128> wide = {Uint128(UINT64_MAX) * 4, Uint128(UINT64_MAX) * 4, 0};
    const std::vector<std::uint64_t> fitted = fitWeights(wide);
    EXPECT_EQ(fitted[0], fitted[1]);
    EXPECT_GT(fitted[0], 0u);
}

TEST(Ledger, FractionsOfAMicrojouleArePaidLaterNotLost) {
    // Three VMs, a tick each of three: 10/3 µJ each per interval.
    std::vector<ShareCarry> carry(3);
    std::vector<std::uint64_t> paid(3, 0);
    auto interval = [&](std::uint64_t delta, std::uint64_t ticks) {
        std::vector<PackageClaim> claims;
        for (auto& c : carry) claims.push_back({&c, ticks, 0});
        const PackagePayout out = payPackage(delta, 3, claims, false);
        EXPECT_EQ(sum(out.busy) + out.host, delta);
        for (std::size_t v = 0; v < 3; ++v) paid[v] += out.busy[v];
        return out.host;
    };
    // 3, 3, 3 (the host 1); again; then 4, 4, 4 would be 12 of 10: the
    // last VM's 2 µJ are held back.
    EXPECT_EQ(interval(10, 1) + interval(10, 1) + interval(10, 1), 2u);
    for (std::size_t v = 0; v < 3; ++v)
        EXPECT_EQ(paid[v] + carry[v].owed_uj, 10u) << "each VM's exact share: 10 µJ";
    // An interval nobody ran in: what was held back is paid first.
    EXPECT_EQ(interval(10, 0), 8u);
    EXPECT_EQ(paid, (std::vector<std::uint64_t>{10, 10, 10}));
}

TEST(Ledger, VmsAreNeverPaidMoreThanTheDelta) {
    // Carried fractions all about to round up: only 1 µJ to give.
    std::vector<ShareCarry> carry(3, ShareCarry{0xffffffffu, 0});
    std::vector<PackageClaim> claims;
    for (auto& c : carry) claims.push_back({&c, 1, 0});
    const PackagePayout out = payPackage(1, 3, claims, false);
    EXPECT_EQ(sum(out.busy), 1u);
    EXPECT_EQ(out.host, 0u);
    std::uint64_t owed = 0;
    for (const auto& c : carry) owed += c.owed_uj;
    EXPECT_EQ(owed, 2u) << "held back, paid in a later interval";
}

TEST(Ledger, IdleEnergyGoesToTheVmsByVcpuThreadsOrStaysTheHosts) {
    std::vector<ShareCarry> carry(2);
    // a ran 10 of 100 ticks; a has 1 vCPU thread on the package, b 3.
    std::vector<PackageClaim> claims = {{&carry[0], 10, 1}, {&carry[1], 0, 3}};
    const PackagePayout host_mode = payPackage(1000, 100, claims, false);
    EXPECT_EQ(host_mode.busy, (std::vector<std::uint64_t>{100, 0}));
    EXPECT_EQ(host_mode.host, 900u);
    const PackagePayout vcpus = payPackage(1000, 100, claims, true);
    EXPECT_EQ(vcpus.idle, (std::vector<std::uint64_t>{225, 675}));
    EXPECT_EQ(vcpus.host, 0u);
    claims = {{&carry[0], 10, 0}};
    EXPECT_EQ(payPackage(1000, 100, claims, true).host, 900u) << "no vCPU on the package";
}

// The identities hold at every sample of random worlds: packages whose
// counters wrap or cannot be read, VMs coming and going, agent restarts.
void runWorlds(EnergyIdle idle) {
    std::uint64_t wraps = 0, restarts = 0;
    for (std::uint64_t seed = 1; seed <= 40; ++seed) {
        std::mt19937_64 random(seed);
        LedgerWorld world([&](std::uint64_t n) { return random() % n; }, idle);
        for (int step = 0; step < 400; ++step) {
            const std::string wrong = world.step();
            ASSERT_EQ(wrong, "") << "seed " << seed << ", step " << step;
        }
        wraps += world.wraps();
        restarts += world.restarts();
    }
    EXPECT_GT(wraps, 100u);
    EXPECT_GT(restarts, 100u);
}

TEST(LedgerProperty, HostModeAddsUpAtEverySample) {
    runWorlds(EnergyIdle::Host);
}

TEST(LedgerProperty, VcpusModeAddsUpAtEverySample) {
    runWorlds(EnergyIdle::Vcpus);
}

}  // namespace
}  // namespace vmpower
