#include "epoll_event_impl.h"

#include <fcntl.h>
#include <libvirt/libvirt.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "event_loop.h"
#include "log.h"
#include "system_error.h"

namespace vmpower {

namespace {

std::uint32_t toEpoll(int libvirt_events) {
    std::uint32_t e = 0;
    if (libvirt_events & VIR_EVENT_HANDLE_READABLE) e |= EPOLLIN;
    if (libvirt_events & VIR_EVENT_HANDLE_WRITABLE) e |= EPOLLOUT;
    return e;  // errors and hang-ups are always reported, as poll does
}

int fromEpoll(std::uint32_t e) {
    int r = 0;
    if (e & EPOLLIN) r |= VIR_EVENT_HANDLE_READABLE;
    if (e & EPOLLOUT) r |= VIR_EVENT_HANDLE_WRITABLE;
    if (e & EPOLLERR) r |= VIR_EVENT_HANDLE_ERROR;
    if (e & EPOLLHUP) r |= VIR_EVENT_HANDLE_HANGUP;
    return r;
}

struct Adapter;
Adapter& adapter();

// One libvirt handle: a Registration while it watches any events.
struct Handle final : EpollClient {
    int id;
    int fd;
    int polled_fd;  // fd, or a dup of it when another handle already polls fd
    std::uint32_t epoll_events = 0;
    bool removed = false;
    virEventHandleCallback cb;
    void* opaque;
    virFreeCallback ff;
    EventLoop::Registration reg;

    Handle(int i, int f, virEventHandleCallback c, void* o, virFreeCallback free_cb)
        : id(i), fd(f), polled_fd(f), cb(c), opaque(o), ff(free_cb) {}

    void onEpollEvents(std::uint32_t ready) override;

    // Brings the registration in line with epoll_events; false when the fd
    // cannot be polled at all.
    bool sync() {
        if (epoll_events == 0) {
            reg.reset();
            return true;
        }
        if (reg.active()) {
            reg.modify(epoll_events);
            return true;
        }
        try {
            reg = EventLoop::add(polled_fd, epoll_events, *this);
            return true;
        } catch (const SystemError& e) {
            if (e.error() != EEXIST || polled_fd != fd) {
                LOG(Agent).error("event loop: cannot watch fd {}: {}", fd, e.what());
                return false;
            }
        }
        // poll lets two handles watch one fd; epoll wants another fd for the
        // same file.
        polled_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (polled_fd < 0) {
            polled_fd = fd;
            LOG(Agent).error("event loop: cannot watch fd {}: {}", fd, std::strerror(errno));
            return false;
        }
        return sync();
    }
};

// Runs at the end of the turn a handle was removed in: a callback of that
// turn may still be on its way to it.
void finishHandle(void* opaque) {
    std::unique_ptr<Handle> h(static_cast<Handle*>(opaque));
    if (h->ff) h->ff(h->opaque);
}

struct Timeout {
    int frequency_ms;  // -1 disabled, 0 every turn
    virEventTimeoutCallback cb;
    void* opaque;
    virFreeCallback ff;
    EventLoop::Timer timer;
};

struct FreeCall {
    virFreeCallback ff;
    void* opaque;
};

void finishTimeout(void* opaque) {
    std::unique_ptr<FreeCall> f(static_cast<FreeCall*>(opaque));
    f->ff(f->opaque);
}

// Never destroyed, like the loop: libvirt keeps the registered functions for
// the life of the process.
struct Adapter {
    std::mutex mutex;  // libvirt may call in from a thread of its own
    std::unordered_map<int, std::unique_ptr<Handle>> handles;
    std::unordered_map<int, std::unique_ptr<Timeout>> timeouts;
    int next_watch = 1;
    int next_timer = 1;
};
Adapter& adapter() {
    static Adapter* const instance = new Adapter();
    return *instance;
}

void Handle::onEpollEvents(std::uint32_t ready) {
    std::unique_lock lock(adapter().mutex);
    if (removed || !reg.active()) return;
    lock.unlock();
    cb(id, fd, fromEpoll(ready), opaque);
}

int addHandle(int fd, int events, virEventHandleCallback cb, void* opaque, virFreeCallback ff) {
    std::lock_guard lock(adapter().mutex);
    Adapter& a = adapter();
    const int id = a.next_watch;
    auto h = std::make_unique<Handle>(id, fd, cb, opaque, ff);
    h->epoll_events = toEpoll(events);
    if (!h->sync()) {
        if (h->polled_fd != fd) ::close(h->polled_fd);
        return -1;
    }
    a.handles.emplace(id, std::move(h));
    ++a.next_watch;
    return id;
}

void updateHandle(int watch, int events) {
    std::lock_guard lock(adapter().mutex);
    Adapter& a = adapter();
    auto it = a.handles.find(watch);
    if (it == a.handles.end()) return;
    it->second->epoll_events = toEpoll(events);
    it->second->sync();
}

int removeHandle(int watch) {
    std::lock_guard lock(adapter().mutex);
    Adapter& a = adapter();
    auto it = a.handles.find(watch);
    if (it == a.handles.end()) return -1;
    Handle* h = it->second.release();
    a.handles.erase(it);
    h->removed = true;
    h->reg.reset();  // an event still pending in this turn finds nothing
    if (h->polled_fd != h->fd) ::close(h->polled_fd);
    EventLoop::atTurnEnd(finishHandle, h);
    return 0;
}

void onTimer(int id) {
    std::unique_lock lock(adapter().mutex);
    Adapter& a = adapter();
    auto it = a.timeouts.find(id);
    if (it == a.timeouts.end()) return;
    Timeout& t = *it->second;
    // libvirt timeouts repeat: the next one is due a period after this one.
    if (t.frequency_ms >= 0) t.timer.arm(std::chrono::milliseconds(t.frequency_ms));
    const auto cb = t.cb;
    void* const opaque = t.opaque;
    lock.unlock();
    cb(id, opaque);
}

void setFrequency(Timeout& t, int frequency) {
    t.frequency_ms = frequency;
    if (frequency < 0) {
        t.timer.cancel();
    } else {
        t.timer.arm(std::chrono::milliseconds(frequency));
    }
}

int addTimeout(int frequency, virEventTimeoutCallback cb, void* opaque, virFreeCallback ff) {
    std::lock_guard lock(adapter().mutex);
    Adapter& a = adapter();
    const int id = a.next_timer++;
    std::unique_ptr<Timeout> t(
        new Timeout{frequency, cb, opaque, ff, EventLoop::Timer([id] { onTimer(id); })});
    setFrequency(*t, frequency);
    a.timeouts.emplace(id, std::move(t));
    return id;
}

void updateTimeout(int timer, int frequency) {
    std::lock_guard lock(adapter().mutex);
    Adapter& a = adapter();
    auto it = a.timeouts.find(timer);
    if (it != a.timeouts.end()) setFrequency(*it->second, frequency);
}

int removeTimeout(int timer) {
    std::lock_guard lock(adapter().mutex);
    Adapter& a = adapter();
    auto it = a.timeouts.find(timer);
    if (it == a.timeouts.end()) return -1;
    if (it->second->ff)
        EventLoop::atTurnEnd(finishTimeout, new FreeCall{it->second->ff, it->second->opaque});
    a.timeouts.erase(it);  // its Timer never fires again
    return 0;
}

// libvirt calls these from C: nothing may be thrown through them (a failed
// allocation is libvirt's -1).
template <typename F>
int orMinusOne(F&& f) noexcept {
    try {
        return f();
    } catch (...) {
        return -1;
    }
}
int addHandleCb(int fd, int events, virEventHandleCallback cb, void* opaque, virFreeCallback ff) {
    return orMinusOne([&] { return addHandle(fd, events, cb, opaque, ff); });
}
void updateHandleCb(int watch, int events) {
    orMinusOne([&] { return updateHandle(watch, events), 0; });
}
int removeHandleCb(int watch) {
    return orMinusOne([&] { return removeHandle(watch); });
}
int addTimeoutCb(int frequency, virEventTimeoutCallback cb, void* opaque, virFreeCallback ff) {
    return orMinusOne([&] { return addTimeout(frequency, cb, opaque, ff); });
}
void updateTimeoutCb(int timer, int frequency) {
    orMinusOne([&] { return updateTimeout(timer, frequency), 0; });
}
int removeTimeoutCb(int timer) {
    return orMinusOne([&] { return removeTimeout(timer); });
}

}  // namespace

namespace epoll_event_impl {

void registerWithLibvirt() {
    static const bool registered = [] {
        EventLoop::pendingAtTurnEnd();  // the loop's fds exist before libvirt's first call
        virEventRegisterImpl(addHandleCb, updateHandleCb, removeHandleCb, addTimeoutCb,
                             updateTimeoutCb, removeTimeoutCb);
        return true;
    }();
    (void)registered;
}

std::size_t pendingFrees() {
    return EventLoop::pendingAtTurnEnd();
}

}  // namespace epoll_event_impl

void EventLoop::registerImpl() {
    epoll_event_impl::registerWithLibvirt();
}

}  // namespace vmpower
