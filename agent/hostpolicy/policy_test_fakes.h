#pragma once
// Test doubles of the host policies' edges: a wall clock set to any local
// hour (and the local time it is made of), interface counters and branch counters given by the
// test.

#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "policy_sources.h"
#include "wall_clock.h"

namespace vmpower::testing {

// `day`'s date at hh:mm:ss.ms, host local time.
inline WallClock::TimePoint localTime(std::tm day, int hour, int min = 0, int sec = 0, int ms = 0) {
    day.tm_hour = hour;
    day.tm_min = min;
    day.tm_sec = sec;
    day.tm_isdst = -1;
    return std::chrono::system_clock::from_time_t(std::mktime(&day)) +
           std::chrono::milliseconds(ms);
}

// A day without a daylight-saving change.
inline std::tm aTestDay() {
    std::tm tm{};
    tm.tm_year = 2026 - 1900;
    tm.tm_mon = 10;
    tm.tm_mday = 30;
    return tm;
}

class SettableWall final : public WallClock {
  public:
    TimePoint now() const override { return now_; }
    // The test day at hh:mm:ss.ms, host local time.
    void at(int hour, int min = 0, int sec = 0, int ms = 0) {
        now_ = localTime(aTestDay(), hour, min, sec, ms);
    }

  private:
    TimePoint now_;
};

class FakeTraffic final : public TrafficSource {
  public:
    TrafficSample sample(const std::vector<std::string>& uuids) override {
        ++calls;
        asked = uuids;
        return answer;
    }
    TrafficSample answer;
    std::vector<std::string> asked;
    int calls = 0;
};

class FakeBranches final : public BranchCounterSource {
  public:
    Verdict open(std::string_view, std::string_view, const std::vector<unsigned>& v) override {
        opened = v;
        return refusal.empty() ? Verdict::accepted() : Verdict::refused(refusal);
    }
    void close(std::string_view) override { ++closed; }
    std::optional<BranchCounts> read(std::string_view) override { return counts; }
    std::string refusal;
    std::vector<unsigned> opened;
    int closed = 0;
    std::optional<BranchCounts> counts;
};

}  // namespace vmpower::testing
