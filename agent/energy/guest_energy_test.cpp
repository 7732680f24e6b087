// The guest's energy reading changes at most once per period, whatever the
// sampling interval and however often the guest asks (issue 25: the package
// power side channel).
#include "guest_energy.h"

#include <gtest/gtest.h>

#include <set>

namespace vmpower {
namespace {

using namespace std::chrono_literals;

// A VM drawing `watts` for `s` seconds, as the sampler publishes it.
VmEnergyReading live(std::uint64_t s, std::uint64_t uj, std::uint32_t power_mw) {
    VmEnergyReading r;
    r.energy_uj = uj;
    r.watched_ms = s * 1000;
    r.power_mw = power_mw;
    r.interval_ms = 1000;
    r.vcpu_count = 1;
    r.vcpu_uj[0] = uj;
    return r;
}

TEST(GuestEnergyGate, TheReadingChangesAtMostOncePerPeriod) {
    ManualClock clock;
    GuestEnergyGate gate(10s);
    std::uint64_t uj = 0;
    std::set<std::uint64_t> seen;
    std::optional<Clock::TimePoint> last_change;
    std::optional<std::uint64_t> last;
    for (std::uint64_t s = 0; s <= 60; ++s) {
        // The package power swings every second; the guest asks every second.
        const std::uint32_t mw = s % 2 ? 30'000 : 5'000;
        uj += mw * 1000ULL;
        gate.publish(clock.now(), {{"vm", live(s, uj, mw)}});
        auto r = gate.reading("vm");
        ASSERT_TRUE(r);
        if (!last || r->energy_uj != *last) {
            if (last_change) {
                EXPECT_GE(clock.now() - *last_change, 10s) << "at " << s << " s";
            }
            last_change = clock.now();
            last = r->energy_uj;
            seen.insert(r->energy_uj);
        }
        EXPECT_NE(r->interval_ms, 1000U) << "never the sampling interval's watts";
        clock.advance(1s);
    }
    EXPECT_EQ(seen.size(), 7U) << "first, then at 10, 20, ... 60 s";
}

TEST(GuestEnergyGate, WattsAreTheAverageOverTheWholePeriod) {
    ManualClock clock;
    GuestEnergyGate gate(10s);
    gate.publish(clock.now(), {{"vm", live(5, 50'000'000, 1)}});
    EXPECT_EQ(gate.reading("vm")->power_mw, 10'000U) << "first: averaged since watched";
    EXPECT_EQ(gate.reading("vm")->interval_ms, 5000U);
    clock.advance(10s);
    // 10 s later 200 J more: 20 W on average, whatever the last second drew.
    gate.publish(clock.now(), {{"vm", live(15, 250'000'000, 99'000)}});
    auto r = gate.reading("vm");
    EXPECT_EQ(r->energy_uj, 250'000'000U);
    EXPECT_EQ(r->power_mw, 20'000U);
    EXPECT_EQ(r->interval_ms, 10'000U);
    EXPECT_EQ(r->vcpu_uj[0], 250'000'000U);
}

TEST(GuestEnergyGate, EachVmHasItsOwnPeriodAndStoppedVmsAreForgotten) {
    ManualClock clock;
    GuestEnergyGate gate(10s);
    gate.publish(clock.now(), {{"a", live(1, 1, 0)}});
    clock.advance(6s);
    gate.publish(clock.now(), {{"a", live(7, 7, 0)}, {"b", live(1, 1, 0)}});
    EXPECT_EQ(gate.reading("a")->energy_uj, 1U);
    EXPECT_EQ(gate.reading("b")->energy_uj, 1U) << "a VM's first reading at once";
    clock.advance(4s);
    gate.publish(clock.now(), {{"a", live(11, 11, 0)}, {"b", live(5, 5, 0)}});
    EXPECT_EQ(gate.reading("a")->energy_uj, 11U);
    EXPECT_EQ(gate.reading("b")->energy_uj, 1U) << "only 4 s since b's first";
    gate.publish(clock.now(), {{"b", live(5, 5, 0)}});
    EXPECT_FALSE(gate.reading("a"));
    EXPECT_FALSE(gate.reading("nobody"));
}

TEST(GuestEnergyGate, ANewRunStartsAgainAtOnce) {
    ManualClock clock;
    GuestEnergyGate gate(10s);
    gate.publish(clock.now(), {{"vm", live(100, 500'000'000, 0)}});
    clock.advance(1s);
    gate.publish(clock.now(), {{"vm", live(0, 0, 0)}});
    EXPECT_EQ(gate.reading("vm")->energy_uj, 0U) << "the old run's count is not this run's";
}

}  // namespace
}  // namespace vmpower
