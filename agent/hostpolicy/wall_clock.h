#pragma once
// The host's time of day is an edge: TIME policies read it through this
// interface so tests can put the host at any hour.

#include <chrono>

namespace vmpower {

class WallClock {
  public:
    using TimePoint = std::chrono::system_clock::time_point;
    virtual ~WallClock() = default;
    virtual TimePoint now() const = 0;
};

class SystemWallClock final : public WallClock {
  public:
    TimePoint now() const override { return std::chrono::system_clock::now(); }
};

// The hour (0-23) of `t` in the host's local time zone (TZ, /etc/localtime).
int localHour(WallClock::TimePoint t);
// How long from `t` until the local hour next changes (at least 1 ms).
std::chrono::milliseconds untilNextHour(WallClock::TimePoint t);

}  // namespace vmpower
