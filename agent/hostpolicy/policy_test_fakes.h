#pragma once
// Test doubles of the host policies' edges: a wall clock set to any local
// hour (and the local time it is made of), interface counters (answered
// later, as the test says) and branch counters given by the test.

#include <chrono>
#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "clock.h"
#include "host_policy.h"
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

// TIME on vCPU 1: 9 o'clock busy, 10 quiet.
inline HostPolicy busy9Quiet10() {
    HostPolicy p;
    p.type = HostPolicyType::Time;
    p.vcpus = {1};
    p.busy_hours.set(9);
    p.quiet_hours.set(10);
    return p;
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

// Answers later, as the hypervisor's worker does: each sample asked for is
// queued until the test calls answer() (one loop turn's worth of answers).
// Slow: answer() first moves `clock` on by `delay`, the time the sample took.
class FakeTraffic final : public TrafficSource {
  public:
    AsyncCall sample(std::vector<std::string> uuids, Done<TrafficSample> done) override {
        ++calls;
        asked = std::move(uuids);
        auto [call, reply] = AsyncCall::start(std::move(done));
        queued_.push_back(std::move(reply));
        return std::move(call);
    }
    // Answers every queued sample with `answer`, or `refusal` when set;
    // how many were queued (an answer nobody wants any more is dropped by
    // AsyncCall).
    std::size_t answerQueued() {
        auto queued = std::move(queued_);
        queued_.clear();
        if (clock != nullptr && !queued.empty()) clock->advance(delay);
        for (auto& reply : queued) {
            reply(refusal.empty() ? Checked<TrafficSample>(answer)
                                  : Checked<TrafficSample>::refused(refusal));
        }
        return queued.size();
    }
    std::size_t queued() const { return queued_.size(); }

    TrafficSample answer;
    std::string refusal;
    std::vector<std::string> asked;
    int calls = 0;
    ManualClock* clock = nullptr;  // slow: moved on by `delay` before answering
    std::chrono::milliseconds delay{0};

  private:
    std::vector<std::function<void(Checked<TrafficSample>)>> queued_;
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
