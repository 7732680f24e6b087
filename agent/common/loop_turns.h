#pragma once
// How long the agent's one loop worked per turn (agent/core/event_loop.h:
// from epoll_wait's return to the end of the turn's callbacks): a
// Prometheus-style histogram with fixed buckets and the longest turn. The
// loop never waits on anything but epoll_wait, so a long turn is the loop
// stalled: every guest, the control socket and SIGTERM waited that long.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace vmpower {

struct LoopTurns {
    // Each bucket's upper bound (inclusive, as Prometheus' "le"); the last
    // bucket of `counts` is +Inf.
    static constexpr std::array<std::chrono::microseconds, 10> kBounds{
        std::chrono::microseconds(50),    std::chrono::microseconds(100),
        std::chrono::microseconds(250),   std::chrono::microseconds(500),
        std::chrono::microseconds(1000),  std::chrono::microseconds(2500),
        std::chrono::microseconds(5000),  std::chrono::microseconds(10000),
        std::chrono::microseconds(25000), std::chrono::microseconds(100000)};
    // The bound past which a turn is worth a look (docs/metrics.md).
    static constexpr std::chrono::milliseconds kSlow{10};

    std::array<std::uint64_t, kBounds.size() + 1> counts{};  // per bucket, not cumulative
    std::uint64_t turns = 0;
    std::chrono::nanoseconds total{0};
    std::chrono::nanoseconds longest{0};

    void record(std::chrono::nanoseconds took) {
        std::size_t i = 0;
        while (i < kBounds.size() && took > kBounds[i]) ++i;
        ++counts[i];
        ++turns;
        total += took;
        if (took > longest) longest = took;
    }

    // Turns that took longer than kSlow.
    std::uint64_t slowTurns() const {
        std::uint64_t n = 0;
        for (std::size_t i = 0; i < kBounds.size(); ++i) {
            if (kBounds[i] > kSlow) n += counts[i];
        }
        return n + counts[kBounds.size()];
    }
};

}  // namespace vmpower
