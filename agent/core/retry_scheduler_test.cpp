#include "retry_scheduler.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace vmpower {
namespace {

class RetrySchedulerTest : public ::testing::Test {
  protected:
    void SetUp() override { EventLoop::registerImpl(); }
    ManualClock clock_;
};

TEST_F(RetrySchedulerTest, RunsInDeadlineOrderAndHonoursCancel) {
    RetryScheduler s(clock_);
    std::vector<int> ran;
    auto third = s.schedule(std::chrono::milliseconds(30), [&] { ran.push_back(3); });
    auto second = s.schedule(std::chrono::milliseconds(20), [&] { ran.push_back(2); });
    auto first = s.schedule(std::chrono::milliseconds(10), [&] { ran.push_back(1); });
    second.reset();
    second.reset();  // twice is harmless
    clock_.advance(std::chrono::milliseconds(100));
    for (int i = 0; i < 10 && s.pending() > 0; ++i) EventLoop::runOnce();
    EXPECT_EQ(ran, (std::vector<int>{1, 3}));
}

TEST_F(RetrySchedulerTest, NothingRunsBeforeItsDeadline) {
    RetryScheduler s(clock_);
    int ran = 0;
    auto call = s.schedule(std::chrono::milliseconds(50), [&] { ++ran; });
    // The libvirt timer fires (real time) but the clock has not reached it.
    EventLoop::Timer tick([] {});
    tick.arm(std::chrono::milliseconds(60));
    EventLoop::runOnce();
    EventLoop::runOnce();
    EXPECT_EQ(ran, 0);
    EXPECT_EQ(s.pending(), 1u);
}

TEST_F(RetrySchedulerTest, ManyDueAtOnceRunInBoundedBatchesPerTurn) {
    RetryScheduler s(clock_);
    int ran = 0;
    std::vector<RetryScheduler::Call> calls;
    for (int i = 0; i < 100; ++i)
        calls.push_back(s.schedule(std::chrono::milliseconds(0), [&] { ++ran; }));
    EventLoop::runOnce();
    EXPECT_GT(ran, 0);
    EXPECT_LE(ran, 32);  // one turn never runs them all
    for (int i = 0; i < 10 && s.pending() > 0; ++i) EventLoop::runOnce();
    EXPECT_EQ(ran, 100);
}

TEST_F(RetrySchedulerTest, ACallbackMayScheduleAnother) {
    RetryScheduler s(clock_);
    int ran = 0;
    RetryScheduler::Call inner, outer;
    outer = s.schedule(std::chrono::milliseconds(0), [&] {
        ++ran;
        EXPECT_FALSE(outer.pending());  // it is running
        inner = s.schedule(std::chrono::milliseconds(0), [&] { ++ran; });
    });
    for (int i = 0; i < 10 && (s.pending() > 0 || ran < 2); ++i) EventLoop::runOnce();
    EXPECT_EQ(ran, 2);
}

// One entry that throws (e.g. EventLoop::add inside Channel::tryConnect)
// must not stall the others, libvirt's reconnect among them: the timer is
// one-shot, so the scheduler must re-arm for what remains.
TEST_F(RetrySchedulerTest, AThrowingEntryDoesNotStallTheOthers) {
    RetryScheduler s(clock_);
    std::vector<int> ran;
    std::vector<RetryScheduler::Call> calls;
    calls.push_back(s.schedule(std::chrono::milliseconds(0), [&] {
        ran.push_back(0);
        throw std::runtime_error("epoll_ctl: No space left on device");
    }));
    calls.push_back(s.schedule(std::chrono::milliseconds(0), [&] { ran.push_back(1); }));
    calls.push_back(s.schedule(std::chrono::milliseconds(20), [&] { ran.push_back(2); }));
    calls.push_back(
        s.schedule(std::chrono::milliseconds(0), [] { throw 42; }));  // not even an exception
    EventLoop::runOnce();
    EXPECT_EQ(ran, (std::vector<int>{0, 1}));
    EXPECT_EQ(s.pending(), 1u);
    clock_.advance(std::chrono::milliseconds(100));
    for (int i = 0; i < 10 && s.pending() > 0; ++i) EventLoop::runOnce();
    EXPECT_EQ(ran, (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(s.pending(), 0u);
}

// The handle is the cancel: a Call that goes before its deadline takes its
// work with it.
TEST_F(RetrySchedulerTest, ACallDestroyedBeforeItsDeadlineNeverRuns) {
    RetryScheduler s(clock_);
    int ran = 0;
    {
        auto call = s.schedule(std::chrono::milliseconds(10), [&] { ++ran; });
        EXPECT_TRUE(call.pending());
        EXPECT_EQ(s.pending(), 1u);
    }
    EXPECT_EQ(s.pending(), 0u);
    RetryScheduler::Call moved = s.schedule(std::chrono::milliseconds(10), [&] { ran += 10; });
    RetryScheduler::Call target = std::move(moved);
    EXPECT_FALSE(moved.pending());
    clock_.advance(std::chrono::milliseconds(100));
    for (int i = 0; i < 10 && s.pending() > 0; ++i) EventLoop::runOnce();
    EXPECT_EQ(ran, 10);
    EXPECT_FALSE(target.pending());
}

}  // namespace
}  // namespace vmpower
