#pragma once
// The agent's one event loop: one epoll fd for the whole process. Every
// source of work holds one of its handles, each removed when destroyed:
//   - EventLoop::Registration: an fd in the epoll set, on EPOLL* flags
//     (channels, control connections, the signalfd, libvirt's handles);
//   - EventLoop::Timer: a one-shot timer that can be re-armed;
//   - RetryScheduler::Call (retry_scheduler.h): deferred work on one Timer.
// libvirt's event implementation (epoll_event_impl.h) is an adapter on these:
// its handles are Registrations, its timeouts Timers.
//
// A turn visits only the ready fds; a registration's key is never reused, so
// an fd removed while its events are pending in the current batch is never
// called; work handed to atTurnEnd (libvirt's free callbacks) runs after every
// callback of the turn. Nothing thrown by a callback leaves it: it is logged
// and the batch goes on.

#include <sys/epoll.h>  // the EPOLL* flags registrations are made with

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

#include "loop_turns.h"

namespace vmpower {

// An fd the agent reads itself.
class EpollClient {
  public:
    virtual void onEpollEvents(std::uint32_t events) = 0;

  protected:
    ~EpollClient() = default;
};

class EventLoop {
  public:
    // Registers the libvirt adapter (epoll_event_impl.h); must run before the
    // first virConnectOpen (libvirt's rule). Later calls do nothing.
    static void registerImpl();

    // One turn: waits for the next fd event or due timer, dispatches what is
    // ready, then runs what atTurnEnd was given before.
    static void runOnce();

    using FdCallback = std::function<void(std::uint32_t events)>;

    // An fd in the epoll set; removed from it when destroyed or reset (before
    // the fd is closed: the owner declares the fd first).
    class Registration {
      public:
        Registration() = default;
        Registration(Registration&& o) noexcept;
        Registration& operator=(Registration&& o) noexcept;
        Registration(const Registration&) = delete;
        Registration& operator=(const Registration&) = delete;
        ~Registration();

        // New EPOLL* interest; a failure is logged (the fd stays as it was).
        void modify(std::uint32_t events);
        void reset();
        bool active() const { return key_ != 0; }

      private:
        friend class EventLoop;
        struct FunctionClient final : EpollClient {
            explicit FunctionClient(FdCallback f) : cb(std::move(f)) {}
            void onEpollEvents(std::uint32_t events) override { cb(events); }
            FdCallback cb;
        };
        Registration(std::uint64_t key, int fd, std::unique_ptr<FunctionClient> owned);

        std::uint64_t key_ = 0;
        int fd_ = -1;
        std::unique_ptr<FunctionClient> owned_;  // watch()'s callback
    };

    // Registers fd for events (EPOLL* flags); errors and hang-ups are always
    // reported. Throws SystemError when epoll refuses the fd.
    [[nodiscard]] static Registration add(int fd, std::uint32_t events, EpollClient& client);
    [[nodiscard]] static Registration watch(int fd, std::uint32_t events, FdCallback cb);

    using TimerCallback = std::function<void()>;
    struct TimerSlot;

    // A one-shot timer that can be re-armed; removed when destroyed.
    class Timer {
      public:
        explicit Timer(TimerCallback cb);
        Timer(const Timer&) = delete;
        Timer& operator=(const Timer&) = delete;
        ~Timer();
        void arm(std::chrono::milliseconds delay);
        void cancel();
        bool armed() const;

      private:
        TimerSlot* slot_;  // owned by the loop until the end of the turn it is removed in
    };

    // fn(opaque) after every callback of the current (or next) turn, never
    // from inside the call that removed what it frees.
    static void atTurnEnd(void (*fn)(void*), void* opaque);
    // For tests: what atTurnEnd still holds.
    static std::size_t pendingAtTurnEnd();

    // How long each turn worked so far (steady clock, from epoll_wait's
    // return to the end of the turn's callbacks): two clock reads a turn.
    static LoopTurns turns();
};

}  // namespace vmpower
