#include "wall_clock.h"

#include <ctime>

namespace vmpower {

namespace {

std::tm localTm(WallClock::TimePoint t) {
    const std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    localtime_r(&secs, &tm);
    return tm;
}

}  // namespace

int localHour(WallClock::TimePoint t) {
    return localTm(t).tm_hour;
}

std::chrono::milliseconds untilNextHour(WallClock::TimePoint t) {
    using namespace std::chrono;
    // to_time_t truncates towards the epoch; keep the sub-second part apart.
    const auto whole = system_clock::from_time_t(system_clock::to_time_t(t));
    const auto fraction = duration_cast<milliseconds>(t - whole);
    const std::tm tm = localTm(t);
    const auto into_hour = minutes(tm.tm_min) + seconds(tm.tm_sec) + fraction;
    const auto left = duration_cast<milliseconds>(hours(1) - into_hour);
    return left < milliseconds(1) ? milliseconds(1) : left;
}

}  // namespace vmpower
