#include "wall_clock.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

namespace vmpower {
namespace {

using namespace std::chrono;

WallClock::TimePoint localTime(int hour, int min, int sec, int ms) {
    std::tm tm{};
    tm.tm_year = 2026 - 1900;
    tm.tm_mon = 5;
    tm.tm_mday = 15;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    tm.tm_isdst = -1;
    return system_clock::from_time_t(std::mktime(&tm)) + milliseconds(ms);
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
