#pragma once
// The agent's one event loop, registered as libvirt's event implementation
// (epoll_event_impl.h). libvirt's connection, every channel and control
// connection (EpollSet), signals and timers are all handles or timeouts in it.

#include <chrono>
#include <functional>
#include <memory>

namespace vmpower {

struct TimerSlot;

class EventLoop {
  public:
    // Must run before the first virConnectOpen (libvirt's rule).
    static void registerImpl();

    using FdCallback = std::function<void(int fd, int libvirt_events)>;
    using TimerCallback = std::function<void()>;

    // A watched fd; unwatched when destroyed.
    class Watch {
      public:
        Watch() = default;
        explicit Watch(int id) : id_(id) {}
        Watch(Watch&& o) noexcept : id_(o.id_) { o.id_ = -1; }
        Watch& operator=(Watch&& o) noexcept;
        Watch(const Watch&) = delete;
        Watch& operator=(const Watch&) = delete;
        ~Watch() { reset(); }
        void reset();
        void setEvents(int libvirt_events);
        bool active() const { return id_ >= 0; }

      private:
        int id_ = -1;
    };

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
        TimerSlot* slot_;  // owned by libvirt's loop until its free callback runs
        int id_ = -1;
    };

    static Watch watch(int fd, int libvirt_events, FdCallback cb);

    // One turn of the loop: waits for and dispatches events.
    static void runOnce();
};

}  // namespace vmpower
