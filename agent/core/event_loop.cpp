#include "event_loop.h"

#include <libvirt/libvirt.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

#include "epoll_event_impl.h"
#include "libvirt_handles.h"
#include "log.h"

namespace vmpower {

namespace {

struct WatchSlot {
    EventLoop::FdCallback cb;
};

void onHandle(int /*watch*/, int fd, int events, void* opaque) {
    // libvirt calls us from C: nothing may escape.
    try {
        static_cast<WatchSlot*>(opaque)->cb(fd, events);
    } catch (const std::exception& e) {
        LOG(Agent).error("event handler for fd {} failed: {}", fd, e.what());
    } catch (...) {
        LOG(Agent).error("event handler for fd {} failed", fd);
    }
}

void freeWatchSlot(void* opaque) {
    delete static_cast<WatchSlot*>(opaque);
}

}  // namespace

void EventLoop::registerImpl() {
    // Once per process: libvirt keeps using it for the life of the process.
    epoll_event_impl::registerWithLibvirt();
}

EventLoop::Watch& EventLoop::Watch::operator=(Watch&& o) noexcept {
    if (this != &o) {
        reset();
        id_ = o.id_;
        o.id_ = -1;
    }
    return *this;
}

void EventLoop::Watch::reset() {
    if (id_ >= 0) virEventRemoveHandle(id_);
    id_ = -1;
}

void EventLoop::Watch::setEvents(int libvirt_events) {
    if (id_ >= 0) virEventUpdateHandle(id_, libvirt_events);
}

EventLoop::Watch EventLoop::watch(int fd, int libvirt_events, FdCallback cb) {
    auto* slot = new WatchSlot{std::move(cb)};
    int id = virEventAddHandle(fd, libvirt_events, onHandle, slot, freeWatchSlot);
    if (id < 0) {
        delete slot;
        throw std::runtime_error("cannot watch fd: " + lastLibvirtError());
    }
    return Watch(id);
}

struct TimerSlot {
    EventLoop::TimerCallback cb;
    bool armed = false;
};

namespace {

void onTimeout(int timer, void* opaque) {
    auto* slot = static_cast<TimerSlot*>(opaque);
    // libvirt timeouts repeat: make ours one-shot before running the body,
    // which may re-arm it.
    virEventUpdateTimeout(timer, -1);
    slot->armed = false;
    try {
        slot->cb();
    } catch (const std::exception& e) {
        LOG(Agent).error("timer failed: {}", e.what());
    } catch (...) {
        LOG(Agent).error("timer failed");
    }
}

void freeTimerSlot(void* opaque) {
    delete static_cast<TimerSlot*>(opaque);
}

}  // namespace

EventLoop::Timer::Timer(TimerCallback cb) : slot_(new TimerSlot{std::move(cb)}) {
    id_ = virEventAddTimeout(-1, onTimeout, slot_, freeTimerSlot);
    if (id_ < 0) {
        delete slot_;
        throw std::runtime_error("cannot add timer: " + lastLibvirtError());
    }
}

EventLoop::Timer::~Timer() {
    // The loop frees the slot later (its free callback); it never fires again.
    virEventRemoveTimeout(id_);
}

void EventLoop::Timer::arm(std::chrono::milliseconds delay) {
    slot_->armed = true;
    virEventUpdateTimeout(id_, static_cast<int>(delay.count()));
}

void EventLoop::Timer::cancel() {
    slot_->armed = false;
    virEventUpdateTimeout(id_, -1);
}

bool EventLoop::Timer::armed() const {
    return slot_->armed;
}

void EventLoop::runOnce() {
    epoll_event_impl::runOnce();
}

}  // namespace vmpower
