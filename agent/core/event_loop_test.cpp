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
