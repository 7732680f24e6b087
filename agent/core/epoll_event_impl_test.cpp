// The epoll event implementation through libvirt's own entry points
// (virEventAddHandle & co. call what registerWithLibvirt registered).
#include "epoll_event_impl.h"

#include <gtest/gtest.h>
#include <libvirt/libvirt.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "event_loop.h"
#include "socket_pair.h"

namespace vmpower {
namespace {

using Pair = testing::SocketPair;

// What a callback saw, and what it is told to do.
struct Probe {
    int calls = 0;
    int last_watch = 0;
    int last_fd = -1;
    int last_events = 0;
    int frees = 0;
    int remove_watch = 0;  // removed from inside the callback
    int remove_timer = 0;  // removed from inside the callback
    int frees_seen_in_callback = -1;
    Pair* drain = nullptr;
};

void onHandle(int watch, int fd, int events, void* opaque) {
    auto* p = static_cast<Probe*>(opaque);
    ++p->calls;
    p->last_watch = watch;
    p->last_fd = fd;
    p->last_events = events;
    if (p->drain) p->drain->drain();
    if (p->remove_watch) {
        virEventRemoveHandle(p->remove_watch);
        p->frees_seen_in_callback = p->frees;
    }
}

void onTimeout(int /*timer*/, void* opaque) {
    auto* p = static_cast<Probe*>(opaque);
    ++p->calls;
    if (p->remove_timer) {
        virEventRemoveTimeout(p->remove_timer);
        p->frees_seen_in_callback = p->frees;
    }
}

void onFree(void* opaque) {
    ++static_cast<Probe*>(opaque)->frees;
}

// A test runs a turn after its last remove: the free callbacks it set must
// run while their probes still exist.
class EpollEventImplTest : public ::testing::Test {
  protected:
    void SetUp() override { epoll_event_impl::registerWithLibvirt(); }
    void TearDown() override {
        // Whatever a test removed is freed before the next one starts.
        turnWithoutWaiting();
        EXPECT_EQ(epoll_event_impl::pendingFrees(), 0u);
    }
    // A 0 timeout makes the turn's wait return at once.
    static void turnWithoutWaiting() {
        Probe p;
        int t = virEventAddTimeout(0, onTimeout, &p, nullptr);
        EventLoop::runOnce();
        virEventRemoveTimeout(t);  // no free callback: nothing left pending
    }
};

TEST_F(EpollEventImplTest, ReadableHandleIsCalledWithItsWatchFdAndEvents) {
    Pair s;
    Probe p;
    p.drain = &s;
    int w = virEventAddHandle(s.a.get(), VIR_EVENT_HANDLE_READABLE, onHandle, &p, onFree);
    ASSERT_GT(w, 0);
    s.send();
    EventLoop::runOnce();
    EXPECT_EQ(p.calls, 1);
    EXPECT_EQ(p.last_watch, w);
    EXPECT_EQ(p.last_fd, s.a.get());
    EXPECT_EQ(p.last_events, VIR_EVENT_HANDLE_READABLE);
    EXPECT_EQ(virEventRemoveHandle(w), 0);
    EXPECT_EQ(virEventRemoveHandle(w), -1);  // once only
    turnWithoutWaiting();
    EXPECT_EQ(p.frees, 1);
}

TEST_F(EpollEventImplTest, HangUpIsReportedAsHangup) {
    Pair s;
    Probe p;
    int w = virEventAddHandle(s.a.get(), VIR_EVENT_HANDLE_READABLE, onHandle, &p, nullptr);
    s.b.reset();
    EventLoop::runOnce();
    EXPECT_EQ(p.calls, 1);
    EXPECT_TRUE(p.last_events & VIR_EVENT_HANDLE_HANGUP);
    virEventRemoveHandle(w);
}

TEST_F(EpollEventImplTest, HandleWithNoEventsIsKeptButNotPolled) {
    Pair s;
    Probe p;
    p.drain = &s;
    int w = virEventAddHandle(s.a.get(), 0, onHandle, &p, onFree);
    ASSERT_GT(w, 0);
    s.send();
    s.b.reset();  // not even a hang-up is reported
    turnWithoutWaiting();
    EXPECT_EQ(p.calls, 0);
    virEventUpdateHandle(w, VIR_EVENT_HANDLE_READABLE);
    EventLoop::runOnce();
    EXPECT_EQ(p.calls, 1);
    virEventUpdateHandle(w, 0);
    turnWithoutWaiting();
    EXPECT_EQ(p.calls, 1);
    EXPECT_EQ(virEventRemoveHandle(w), 0);
    turnWithoutWaiting();
    EXPECT_EQ(p.frees, 1);
}

TEST_F(EpollEventImplTest, WritableFollowsUpdates) {
    Pair s;
    Probe p;
    int w = virEventAddHandle(s.a.get(), VIR_EVENT_HANDLE_WRITABLE, onHandle, &p, nullptr);
    EventLoop::runOnce();
    EXPECT_EQ(p.calls, 1);
    EXPECT_EQ(p.last_events, VIR_EVENT_HANDLE_WRITABLE);
    virEventUpdateHandle(w, VIR_EVENT_HANDLE_READABLE);
    turnWithoutWaiting();
    EXPECT_EQ(p.calls, 1);  // nothing to read
    virEventRemoveHandle(w);
}

TEST_F(EpollEventImplTest, TwoHandlesOnOneFdAreBothCalled) {
    Pair s;
    Probe p1, p2;
    int w1 = virEventAddHandle(s.a.get(), VIR_EVENT_HANDLE_READABLE, onHandle, &p1, onFree);
    int w2 = virEventAddHandle(s.a.get(), VIR_EVENT_HANDLE_READABLE, onHandle, &p2, onFree);
    ASSERT_GT(w1, 0);
    ASSERT_GT(w2, 0);
    EXPECT_NE(w1, w2);
    s.send();
    EventLoop::runOnce();
    EXPECT_EQ(p1.calls, 1);
    EXPECT_EQ(p2.calls, 1);
    EXPECT_EQ(p2.last_fd, s.a.get());  // the fd libvirt gave, not the loop's dup
    virEventRemoveHandle(w1);
    virEventRemoveHandle(w2);
    turnWithoutWaiting();
    EXPECT_EQ(p1.frees + p2.frees, 2);
}

TEST_F(EpollEventImplTest, FreeCallbackRunsAtTheNextTurnNotInsideRemove) {
    Pair s;
    Probe p;
    int w = virEventAddHandle(s.a.get(), VIR_EVENT_HANDLE_READABLE, onHandle, &p, onFree);
    EXPECT_EQ(virEventRemoveHandle(w), 0);
    EXPECT_EQ(p.frees, 0);
    EXPECT_EQ(epoll_event_impl::pendingFrees(), 1u);
    turnWithoutWaiting();
    EXPECT_EQ(p.frees, 1);
    s.send();
    turnWithoutWaiting();
    EXPECT_EQ(p.calls, 0);  // removed: never called again
    EXPECT_EQ(p.frees, 1);  // freed once
}

TEST_F(EpollEventImplTest, HandleRemovedByAnotherInTheSameBatchIsNotCalled) {
    Pair s1, s2;
    Probe p1, p2;
    int w1 = virEventAddHandle(s1.a.get(), VIR_EVENT_HANDLE_READABLE, onHandle, &p1, onFree);
    int w2 = virEventAddHandle(s2.a.get(), VIR_EVENT_HANDLE_READABLE, onHandle, &p2, onFree);
    // Whichever runs first removes the other.
    p1.remove_watch = w2;
    p2.remove_watch = w1;
    s1.send();
    s2.send();
    EventLoop::runOnce();
    EXPECT_EQ(p1.calls + p2.calls, 1);
    Probe& ran = p1.calls ? p1 : p2;
    Probe& removed = p1.calls ? p2 : p1;
    EXPECT_EQ(ran.frees_seen_in_callback, 0);  // not freed inside remove
    EXPECT_EQ(removed.frees, 1);               // but by the end of the turn
    virEventRemoveHandle(p1.calls ? w1 : w2);
    turnWithoutWaiting();  // before the probes go
    EXPECT_EQ(p1.frees + p2.frees, 2);
}

TEST_F(EpollEventImplTest, HandleRemovingItselfIsFreedAfterItsCallback) {
    Pair s;
    Probe p;
    p.drain = &s;
    int w = virEventAddHandle(s.a.get(), VIR_EVENT_HANDLE_READABLE, onHandle, &p, onFree);
    p.remove_watch = w;
    s.send();
    EventLoop::runOnce();
    EXPECT_EQ(p.calls, 1);
    EXPECT_EQ(p.frees_seen_in_callback, 0);
    EXPECT_EQ(p.frees, 1);
}

TEST_F(EpollEventImplTest, ZeroTimeoutFiresEveryTurnAndMinusOneNever) {
    Probe every, never;
    int t0 = virEventAddTimeout(0, onTimeout, &every, onFree);
    int tn = virEventAddTimeout(-1, onTimeout, &never, onFree);
    ASSERT_GT(t0, 0);
    ASSERT_GT(tn, 0);
    for (int i = 0; i < 3; ++i) EventLoop::runOnce();
    EXPECT_EQ(every.calls, 3);
    EXPECT_EQ(never.calls, 0);
    virEventUpdateTimeout(t0, -1);
    virEventUpdateTimeout(tn, 0);
    for (int i = 0; i < 2; ++i) EventLoop::runOnce();
    EXPECT_EQ(every.calls, 3);
    EXPECT_EQ(never.calls, 2);
    EXPECT_EQ(virEventRemoveTimeout(t0), 0);
    EXPECT_EQ(virEventRemoveTimeout(tn), 0);
    EXPECT_EQ(virEventRemoveTimeout(tn), -1);
    EXPECT_EQ(every.frees + never.frees, 0);
    turnWithoutWaiting();
    EXPECT_EQ(every.frees + never.frees, 2);
}

TEST_F(EpollEventImplTest, TimeoutWaitsItsIntervalAndRepeats) {
    Probe p;
    auto start = std::chrono::steady_clock::now();
    int t = virEventAddTimeout(20, onTimeout, &p, nullptr);
    // Nothing else is registered: each turn blocks until the timeout is due.
    EventLoop::runOnce();
    EXPECT_EQ(p.calls, 1);
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(20));
    EventLoop::runOnce();
    EXPECT_EQ(p.calls, 2);
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(40));
    virEventRemoveTimeout(t);
}

TEST_F(EpollEventImplTest, TimeoutRemovingItselfIsFreedAfterItsCallback) {
    Probe p;
    int t = virEventAddTimeout(0, onTimeout, &p, onFree);
    p.remove_timer = t;
    EventLoop::runOnce();
    EXPECT_EQ(p.calls, 1);
    EXPECT_EQ(p.frees_seen_in_callback, 0);
    EXPECT_EQ(p.frees, 1);
    turnWithoutWaiting();
    EXPECT_EQ(p.calls, 1);
}

TEST_F(EpollEventImplTest, TimeoutChangedFromAnotherThreadEndsTheWait) {
    Probe p;
    int t = virEventAddTimeout(-1, onTimeout, &p, nullptr);
    std::thread other([t] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        virEventUpdateTimeout(t, 0);
    });
    // Blocks with nothing due until the other thread enables the timeout.
    while (p.calls == 0) EventLoop::runOnce();
    other.join();
    EXPECT_GE(p.calls, 1);
    virEventRemoveTimeout(t);
}

TEST_F(EpollEventImplTest, ManyHandlesAreEachCalledOnce) {
    constexpr int kHandles = 1000;
    std::vector<Pair> pairs(kHandles);
    std::vector<Probe> probes(kHandles);
    std::vector<int> watches;
    for (int i = 0; i < kHandles; ++i) {
        probes[i].drain = &pairs[i];
        watches.push_back(virEventAddHandle(pairs[i].a.get(), VIR_EVENT_HANDLE_READABLE, onHandle,
                                            &probes[i], onFree));
        ASSERT_GT(watches.back(), 0);
    }
    for (auto& s : pairs) s.send();
    // A turn takes a bounded batch; all are served within a few turns.
    for (int turn = 0; turn < 40; ++turn) turnWithoutWaiting();
    for (int i = 0; i < kHandles; ++i) EXPECT_EQ(probes[i].calls, 1) << i;
    for (int w : watches) EXPECT_EQ(virEventRemoveHandle(w), 0);
    turnWithoutWaiting();
    for (auto& p : probes) EXPECT_EQ(p.frees, 1);
}

struct CountingClient final : EpollClient {
    int calls = 0;
    std::uint32_t last = 0;
    std::function<void()> then;
    void onEpollEvents(std::uint32_t events) override {
        ++calls;
        last = events;
        if (then) then();
    }
};

TEST_F(EpollEventImplTest, ClientsShareTheLoopAndRemovedOnesAreNotCalled) {
    Pair s1, s2;
    CountingClient c1, c2;
    auto k1 = EventLoop::add(s1.a.get(), EPOLLIN, c1);
    auto k2 = EventLoop::add(s2.a.get(), EPOLLIN, c2);
    bool removed1 = false, removed2 = false;
    c1.then = [&] {
        if (!removed2) k2.reset();
        removed2 = true;
        s1.drain();
    };
    c2.then = [&] {
        if (!removed1) k1.reset();
        removed1 = true;
        s2.drain();
    };
    s1.send();
    s2.send();
    EventLoop::runOnce();
    EXPECT_EQ(c1.calls + c2.calls, 1);
    EXPECT_EQ((c1.calls ? c1.last : c2.last) & EPOLLIN, static_cast<std::uint32_t>(EPOLLIN));
    if (c1.calls) {
        k1.reset();
    } else {
        k2.reset();
    }
}

TEST_F(EpollEventImplTest, AThrowingClientDoesNotStopTheBatch) {
    Pair s1, s2;
    CountingClient c1, c2;
    c1.then = [&] {
        s1.drain();
        throw std::runtime_error("boom");
    };
    c2.then = [&] {
        s2.drain();
        throw 42;
    };
    auto k1 = EventLoop::add(s1.a.get(), EPOLLIN, c1);
    auto k2 = EventLoop::add(s2.a.get(), EPOLLIN, c2);
    s1.send();
    s2.send();
    EXPECT_NO_THROW(EventLoop::runOnce());
    EXPECT_EQ(c1.calls, 1);
    EXPECT_EQ(c2.calls, 1);
    k1.reset();
    k2.reset();
}

}  // namespace
}  // namespace vmpower
