// The libvirt worker without libvirt: calls run on its thread, in order, and
// their answers come back on the loop, never inside the call that posted
// them; an answer nobody wants is dropped, a call nobody wants is skipped,
// and a slow call never holds the loop.
#include "libvirt_worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

namespace vmpower {
namespace {

using namespace std::chrono_literals;

// Loop turns until pred() or 5 s.
template <typename Pred>
bool turnUntil(Pred pred) {
    const auto until = std::chrono::steady_clock::now() + 5s;
    EventLoop::Timer tick([] {});
    while (!pred() && std::chrono::steady_clock::now() < until) {
        tick.arm(5ms);
        EventLoop::runOnce();
    }
    return pred();
}

TEST(LibvirtWorker, AnswersComeOnTheLoopInOrderAndNeverInsideThePost) {
    LibvirtWorker worker;
    const auto loop = std::this_thread::get_id();
    std::vector<int> answers;
    std::vector<AsyncCall> calls;
    std::atomic<bool> ran_on_worker{true};
    for (int i = 0; i < 5; ++i) {
        calls.push_back(worker.post<Checked<int>>(
            [&, i] {
                ran_on_worker = ran_on_worker && std::this_thread::get_id() != loop;
                return i;
            },
            [&](Checked<int> v) {
                EXPECT_EQ(std::this_thread::get_id(), loop);
                answers.push_back(*v);
            }));
        EXPECT_TRUE(calls.back().pending());
    }
    EXPECT_TRUE(answers.empty()) << "no answer inside the call that asked";
    ASSERT_TRUE(turnUntil([&] { return answers.size() == 5; }));
    EXPECT_EQ(answers, (std::vector<int>{0, 1, 2, 3, 4}));
    EXPECT_TRUE(ran_on_worker);
    for (const auto& c : calls) EXPECT_FALSE(c.pending());
}

TEST(LibvirtWorker, WhatACallThrowsIsItsRefusal) {
    LibvirtWorker worker;
    std::optional<Verdict> got;
    AsyncCall call = worker.post<Verdict>(
        []() -> Verdict { throw std::runtime_error("End of file while reading data"); },
        [&](Verdict v) { got = v; });
    ASSERT_TRUE(turnUntil([&] { return got.has_value(); }));
    EXPECT_FALSE(got->ok());
    EXPECT_EQ(got->reason(), "End of file while reading data");
}

TEST(LibvirtWorker, ADroppedCallIsNotAnsweredAndSkippedWhenNotStarted) {
    LibvirtWorker worker;
    std::atomic<bool> release{false};
    std::atomic<int> ran{0};
    std::atomic<bool> started{false};
    int answered = 0;
    // The first call holds the worker, so the second is still queued when dropped.
    AsyncCall first = worker.post<Verdict>(
        [&] {
            started = true;
            while (!release) std::this_thread::sleep_for(1ms);
            ++ran;
            return Verdict::accepted();
        },
        [&](Verdict) { ++answered; });
    {
        AsyncCall second = worker.post<Verdict>(
            [&] {
                ++ran;
                return Verdict::accepted();
            },
            [&](Verdict) { ++answered; });
    }  // nobody wants it any more
    while (!started) std::this_thread::sleep_for(1ms);
    first.reset();  // already running: it ends, its answer is dropped
    release = true;
    AsyncCall marker = worker.post<Verdict>([] { return Verdict::accepted(); },
                                            [&](Verdict) { answered += 100; });
    ASSERT_TRUE(turnUntil([&] { return answered >= 100; }));
    EXPECT_EQ(answered, 100) << "only the call still wanted was answered";
    EXPECT_EQ(ran, 1) << "the dropped call that had not started was skipped";
    EXPECT_EQ(worker.stats().skipped, 1u);
}

TEST(LibvirtWorker, ASlowCallNeverHoldsTheLoop) {
    LibvirtWorker worker;
    bool slow_done = false;
    AsyncCall slow = worker.post<Verdict>(
        [] {
            std::this_thread::sleep_for(300ms);  // a libvirt call waiting for a job lock
            return Verdict::accepted();
        },
        [&](Verdict) { slow_done = true; });
    // The loop keeps turning for other work while the call runs.
    int ticks = 0;
    EventLoop::Timer tick([&] { ++ticks; });
    const auto until = std::chrono::steady_clock::now() + 200ms;
    while (std::chrono::steady_clock::now() < until) {
        tick.arm(1ms);
        EventLoop::runOnce();
    }
    EXPECT_FALSE(slow_done);
    EXPECT_GT(ticks, 20) << "the loop went on turning";
    ASSERT_TRUE(turnUntil([&] { return slow_done; }));
}

TEST(LibvirtWorker, DetachedUpkeepRunsAndStopRunsWhatIsStillWanted) {
    std::atomic<int> upkeep{0};
    {
        LibvirtWorker worker;
        worker.detach([&] { ++upkeep; });
        AsyncCall wanted = worker.post<Verdict>(
            [&] {
                ++upkeep;
                return Verdict::accepted();
            },
            [](Verdict) {});
        worker.detach([&] { ++upkeep; });
        worker.stop();  // joins after the queue is done
        EXPECT_EQ(upkeep, 3);
        AsyncCall late = worker.post<Verdict>([] { return Verdict::accepted(); }, [](Verdict) {});
        EXPECT_TRUE(late.pending()) << "never answered: the worker has stopped";
    }
}

}  // namespace
}  // namespace vmpower
