#include "wall_clock.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "policy_test_fakes.h"

namespace vmpower {
namespace {

using namespace std::chrono;

WallClock::TimePoint localTime(int hour, int min, int sec, int ms) {
    return testing::localTime(testing::aTestDay(), hour, min, sec, ms);
}

class WallClockTest : public ::testing::TestWithParam<const char*> {
  protected:
    void SetUp() override {
        ::setenv("TZ", GetParam(), 1);
        ::tzset();
    }
    void TearDown() override {
        ::unsetenv("TZ");
        ::tzset();
    }
};

TEST_P(WallClockTest, HourAndTimeToTheNextOneAreLocal) {
    EXPECT_EQ(localHour(localTime(8, 59, 59, 900)), 8);
    EXPECT_EQ(localHour(localTime(9, 0, 0, 0)), 9);
    EXPECT_EQ(untilNextHour(localTime(8, 59, 59, 900)), milliseconds(100));
    EXPECT_EQ(untilNextHour(localTime(9, 0, 0, 0)), hours(1));
    EXPECT_EQ(untilNextHour(localTime(23, 30, 0, 0)), minutes(30));
}

// A zone off UTC by a whole hour and one by a half: the hour is the local one.
INSTANTIATE_TEST_SUITE_P(Zones, WallClockTest,
                         ::testing::Values("UTC0", "CET-1", "IST-5:30", "EST5EDT"));

}  // namespace
}  // namespace vmpower
