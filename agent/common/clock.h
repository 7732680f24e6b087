#pragma once
// The clock is an edge: rate limits and backoff read it through this
// interface so tests can move time by hand.

#include <chrono>

namespace vmpower {

class Clock {
  public:
    using TimePoint = std::chrono::steady_clock::time_point;
    virtual ~Clock() = default;
    virtual TimePoint now() const = 0;
};

class SteadyClock final : public Clock {
  public:
    TimePoint now() const override { return std::chrono::steady_clock::now(); }
};

// For tests: time moves only when told to.
class ManualClock final : public Clock {
  public:
    TimePoint now() const override { return now_; }
    void advance(std::chrono::nanoseconds d) { now_ += d; }

  private:
    TimePoint now_{std::chrono::seconds(1000)};
};

}  // namespace vmpower
