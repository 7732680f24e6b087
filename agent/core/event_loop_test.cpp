// The loop's own handles, without libvirt: a Registration on EPOLL* flags
// (watch() with a function, modify, reset) and a one-shot Timer.
#include "event_loop.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <thread>

#include "socket_pair.h"

namespace vmpower {
namespace {

using testing::SocketPair;

// A turn that does not wait: a timer due now ends it.
void turn() {
    EventLoop::Timer now([] {});
    now.arm(std::chrono::milliseconds(0));
    EventLoop::runOnce();
}

TEST(EventLoop, ATurnsWorkIsTimedIntoItsBucket) {
    const LoopTurns before = EventLoop::turns();
    EventLoop::Timer slow([] { std::this_thread::sleep_for(std::chrono::milliseconds(20)); });
    slow.arm(std::chrono::milliseconds(0));
    EventLoop::runOnce();
    const LoopTurns after = EventLoop::turns();
    EXPECT_EQ(after.turns, before.turns + 1);
    // 20 ms: above 10 ms, at most 25 ms (unless the machine stalled too).
    const std::size_t bucket = 8;
    ASSERT_EQ(LoopTurns::kBounds[bucket], std::chrono::milliseconds(25));
    const std::uint64_t above = after.counts[bucket + 1] + after.counts[bucket + 2] -
                                before.counts[bucket + 1] - before.counts[bucket + 2];
    EXPECT_EQ(after.counts[bucket] - before.counts[bucket] + above, 1U);
    EXPECT_EQ(after.slowTurns(), before.slowTurns() + 1);
    EXPECT_GE(after.longest, std::chrono::milliseconds(20));
    EXPECT_GE(after.total - before.total, std::chrono::milliseconds(20));
    // A turn of nothing is short, and lands below 10 ms.
    turn();
    EXPECT_EQ(EventLoop::turns().slowTurns(), after.slowTurns());
}

TEST(LoopTurns, BucketsAreInclusiveUpperBounds) {
    LoopTurns t;
    t.record(std::chrono::microseconds(50));  // le 50µs
    t.record(std::chrono::microseconds(51));  // le 100µs
    t.record(std::chrono::milliseconds(10));  // le 10 ms: not slow
    t.record(std::chrono::milliseconds(11));  // le 25 ms: slow
    t.record(std::chrono::seconds(1));        // +Inf
    EXPECT_EQ(t.counts[0], 1U);
    EXPECT_EQ(t.counts[1], 1U);
    EXPECT_EQ(t.counts[7], 1U);
    EXPECT_EQ(t.counts[8], 1U);
    EXPECT_EQ(t.counts[10], 1U);
    EXPECT_EQ(t.turns, 5U);
    EXPECT_EQ(t.slowTurns(), 2U);
    EXPECT_EQ(t.longest, std::chrono::seconds(1));
}

TEST(EventLoop, AWatchIsCalledWithTheEpollEventsUntilItGoes) {
    SocketPair s;
    int calls = 0;
    std::uint32_t seen = 0;
    EventLoop::Registration r = EventLoop::watch(s.a.get(), EPOLLIN, [&](std::uint32_t events) {
        ++calls;
        seen = events;
    });
    EXPECT_TRUE(r.active());
    s.send();
    turn();
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(seen & EPOLLIN);
    r.modify(0);  // still registered, waits for nothing
    turn();
    EXPECT_EQ(calls, 1);
    r.modify(EPOLLIN);
    turn();
    EXPECT_EQ(calls, 2);
    EventLoop::Registration moved = std::move(r);
    EXPECT_FALSE(r.active());
    moved.reset();
    turn();
    EXPECT_EQ(calls, 2);
}

TEST(EventLoop, ATimerFiresOnceAndMayReArmItself) {
    int fired = 0;
    EventLoop::Timer t([&] {
        if (++fired < 3) t.arm(std::chrono::milliseconds(0));
    });
    EXPECT_FALSE(t.armed());
    t.arm(std::chrono::milliseconds(0));
    EXPECT_TRUE(t.armed());
    for (int i = 0; i < 5; ++i) turn();
    EXPECT_EQ(fired, 3);
    EXPECT_FALSE(t.armed());
    t.arm(std::chrono::milliseconds(0));
    t.cancel();
    turn();
    EXPECT_EQ(fired, 3);
}

TEST(EventLoop, ThrowingCallbacksStayInTheLoop) {
    SocketPair s;
    EventLoop::Registration r =
        EventLoop::watch(s.a.get(), EPOLLIN, [](std::uint32_t) { throw 42; });
    EventLoop::Timer t([] { throw std::runtime_error("boom"); });
    t.arm(std::chrono::milliseconds(0));
    s.send();
    EXPECT_NO_THROW(turn());
}

}  // namespace
}  // namespace vmpower
