// EnergyCounter: host readings into counters that never go back, across
// new host counts (migration, agent restart) and unavailable spells.
#include "energy_counter.h"

#include <gtest/gtest.h>

#include <random>

namespace {

using vmpower::guest::EnergyCounter;
using vmpower::guest::GuestCount;
using vmpower::guest::HostCount;

TEST(EnergyCounter, TheFirstReadingCountsWholeThenDeltasAdd) {
    EnergyCounter c;
    auto ev = c.add(HostCount{1000, 800, 10'000});
    EXPECT_TRUE(ev.first);
    EXPECT_FALSE(ev.new_host_count);
    EXPECT_EQ(c.count(), (GuestCount{1000, 800}));
    c.add(HostCount{1500, 1100, 11'000});
    EXPECT_EQ(c.count(), (GuestCount{1500, 1100}));
    ev = c.add(HostCount{1500, 1100, 11'000});  // the host's held reading again
    EXPECT_FALSE(ev.first || ev.new_host_count || ev.unavailable || ev.available);
    EXPECT_EQ(c.count(), (GuestCount{1500, 1100}));
}

TEST(EnergyCounter, ALowerEnergyIsANewHostCount) {
    EnergyCounter c;
    c.add(HostCount{5000, 4000, 60'000});
    auto ev = c.add(HostCount{300, 200, 70'000});  // migrated: the new host's count
    EXPECT_TRUE(ev.new_host_count);
    EXPECT_EQ(ev.continued_from, 5000u);
    EXPECT_EQ(c.count(), (GuestCount{5300, 4200}));
    c.add(HostCount{400, 250, 71'000});
    EXPECT_EQ(c.count(), (GuestCount{5400, 4250}));
}

TEST(EnergyCounter, ALowerWatchedTimeIsANewHostCount) {
    EnergyCounter c;
    c.add(HostCount{5000, 4000, 60'000});
    // More energy than before, but watched for less time: another count.
    auto ev = c.add(HostCount{6000, 5000, 1'000});
    EXPECT_TRUE(ev.new_host_count);
    EXPECT_EQ(c.count(), (GuestCount{11'000, 9000}));
}

TEST(EnergyCounter, UnavailableIsReportedOnceAndChangesNothing) {
    EnergyCounter c;
    c.add(HostCount{1000, 900, 1000});
    auto ev = c.add(std::nullopt);
    EXPECT_TRUE(ev.unavailable);
    EXPECT_FALSE(c.add(std::nullopt).unavailable) << "reported once";
    EXPECT_EQ(c.count(), (GuestCount{1000, 900}));
    // Back, same count: the delta since the last reading.
    ev = c.add(HostCount{1600, 1300, 9000});
    EXPECT_TRUE(ev.available);
    EXPECT_FALSE(ev.new_host_count);
    EXPECT_EQ(c.count(), (GuestCount{1600, 1300}));
    // Unavailable again, then back with a new count.
    c.add(std::nullopt);
    ev = c.add(HostCount{100, 50, 500});
    EXPECT_TRUE(ev.available);
    EXPECT_TRUE(ev.new_host_count);
    EXPECT_EQ(c.count(), (GuestCount{1700, 1350}));
}

TEST(EnergyCounter, ContinuesFromAnEarlierRun) {
    // The tree held 7000/6000 and the host reading 2000/1500 they include.
    EnergyCounter c(GuestCount{7000, 6000}, HostCount{2000, 1500, 20'000});
    auto ev = c.add(HostCount{2500, 1800, 25'000});
    EXPECT_FALSE(ev.first);
    EXPECT_EQ(c.count(), (GuestCount{7500, 6300}));
    // Without the host reading: the first reading counts whole.
    EnergyCounter fresh(GuestCount{7000, 6000});
    EXPECT_TRUE(fresh.add(HostCount{2500, 1800, 25'000}).first);
    EXPECT_EQ(fresh.count(), (GuestCount{9500, 7800}));
}

TEST(EnergyCounter, ACoreSumThatShrinksAddsNothing) {
    EnergyCounter c;
    c.add(HostCount{1000, 900, 1000});
    c.add(HostCount{1200, 700, 2000});  // a vCPU unplugged
    EXPECT_EQ(c.count(), (GuestCount{1200, 900}));
    c.add(HostCount{1300, 750, 3000});
    EXPECT_EQ(c.count(), (GuestCount{1300, 950}));
}

TEST(EnergyCounter, TheCoreIsTheVcpusSumUpTo48) {
    vmpower_energy e{};
    e.energy_uj = 1000;
    e.watched_ms = 77;
    e.num_vcpu = 2;
    e.vcpu_energy_uj[0] = 300;
    e.vcpu_energy_uj[1] = 400;
    e.vcpu_energy_uj[2] = 99;  // not a vCPU of this VM
    EXPECT_EQ(vmpower::guest::hostCountOf(e), (HostCount{1000, 700, 77}));
    e.num_vcpu = 49;  // the reply holds only the first 48: the whole VM
    EXPECT_EQ(vmpower::guest::hostCountOf(e), (HostCount{1000, 1000, 77}));
}

TEST(EnergyCounter, NeverGoesBackUnderRandomReadings) {
    std::mt19937_64 rng(20261207);
    for (int run = 0; run < 200; ++run) {
        EnergyCounter c;
        HostCount host{};
        GuestCount before{};
        for (int i = 0; i < 200; ++i) {
            std::optional<HostCount> reading = host;
            switch (rng() % 8) {
                case 0:
                    reading = std::nullopt;
                    break;
                case 1:  // a new count on another host
                    host = {rng() % 100'000, 0, rng() % 100'000};
                    host.core_uj = host.energy_uj / 2;
                    reading = host;
                    break;
                default:
                    host.energy_uj += rng() % 10'000;
                    host.core_uj += rng() % 5'000;
                    host.watched_ms += rng() % 2'000;
                    reading = host;
            }
            c.add(reading);
            ASSERT_GE(c.count().package_uj, before.package_uj);
            ASSERT_GE(c.count().core_uj, before.core_uj);
            before = c.count();
        }
    }
}

TEST(EnergyCounter, WithoutResetsItFollowsTheHostExactly) {
    std::mt19937_64 rng(7);
    EnergyCounter c;
    HostCount host{};
    for (int i = 0; i < 1000; ++i) {
        host.energy_uj += rng() % 1'000'000;
        host.core_uj += rng() % 500'000;
        host.watched_ms += 1000;
        c.add(host);
        ASSERT_EQ(c.count(), (GuestCount{host.energy_uj, host.core_uj}));
    }
}

}  // namespace
