#include "epoll_event_impl.h"

#include <fcntl.h>
#include <libvirt/libvirt.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "log.h"
#include "unique_fd.h"

namespace vmpower::epoll_event_impl {

namespace {

// Keys in epoll_event.data: 0 is the wake-up eventfd, libvirt's watch ids are
// 1..INT_MAX, the agent's clients have the top bit set.
constexpr std::uint64_t kWakeKey = 0;
constexpr std::uint64_t kClientBit = std::uint64_t{1} << 63;

struct Handle {
    int fd;
    int polled_fd;               // fd, or a dup of it when another handle already polls fd
    std::uint32_t epoll_events;  // 0: registered but not polled
    bool in_set;
    virEventHandleCallback cb;
    void* opaque;
    virFreeCallback ff;
};

struct Timeout {
    int id;
    int frequency_ms;  // -1 disabled, 0 every turn
    std::int64_t due_ms;
    bool removed;
    virEventTimeoutCallback cb;
    void* opaque;
    virFreeCallback ff;
};

std::int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

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

class Loop {
  public:
    Loop() : epfd_(epoll_create1(EPOLL_CLOEXEC)), wake_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
        if (!epfd_ || !wake_) {
            throw std::runtime_error(std::string("event loop: ") + std::strerror(errno));
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = kWakeKey;
        if (epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, wake_.get(), &ev) < 0) {
            throw std::runtime_error(std::string("event loop: ") + std::strerror(errno));
        }
    }

    int addHandle(int fd, int events, virEventHandleCallback cb, void* opaque, virFreeCallback ff) {
        std::lock_guard lock(mutex_);
        const int id = next_watch_;
        Handle h{fd, fd, toEpoll(events), false, cb, opaque, ff};
        if (!sync(id, h)) return -1;
        handles_.emplace(id, h);
        ++next_watch_;
        return id;
    }

    void updateHandle(int watch, int events) {
        std::lock_guard lock(mutex_);
        auto it = handles_.find(watch);
        if (it == handles_.end()) return;
        it->second.epoll_events = toEpoll(events);
        sync(watch, it->second);
    }

    int removeHandle(int watch) {
        std::lock_guard lock(mutex_);
        auto it = handles_.find(watch);
        if (it == handles_.end()) return -1;
        Handle& h = it->second;
        if (h.in_set) epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, h.polled_fd, nullptr);
        if (h.polled_fd != h.fd) ::close(h.polled_fd);
        if (h.ff) frees_.emplace_back(h.ff, h.opaque);
        handles_.erase(it);  // an event still pending in this turn finds nothing
        return 0;
    }

    int addTimeout(int frequency, virEventTimeoutCallback cb, void* opaque, virFreeCallback ff) {
        std::lock_guard lock(mutex_);
        const int id = next_timer_++;
        timeouts_.push_back(
            {id, frequency, nowMs() + std::max(frequency, 0), false, cb, opaque, ff});
        wakeFromOtherThread();
        return id;
    }

    void updateTimeout(int timer, int frequency) {
        std::lock_guard lock(mutex_);
        Timeout* t = findTimeout(timer);
        if (!t) return;
        t->frequency_ms = frequency;
        t->due_ms = nowMs() + std::max(frequency, 0);
        wakeFromOtherThread();
    }

    int removeTimeout(int timer) {
        std::lock_guard lock(mutex_);
        Timeout* t = findTimeout(timer);
        if (!t) return -1;
        t->removed = true;  // erased at the end of a turn: dispatch walks by index
        if (t->ff) frees_.emplace_back(t->ff, t->opaque);
        return 0;
    }

    ClientKey addClient(int fd, std::uint32_t events, EpollClient& client) {
        std::lock_guard lock(mutex_);
        const ClientKey key = kClientBit | next_client_;
        epoll_event ev{};
        ev.events = events;
        ev.data.u64 = key;
        if (epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) {
            throw std::runtime_error(std::string("epoll_ctl add: ") + std::strerror(errno));
        }
        clients_.emplace(key, &client);
        ++next_client_;
        return key;
    }

    void modifyClient(ClientKey key, int fd, std::uint32_t events) {
        epoll_event ev{};
        ev.events = events;
        ev.data.u64 = key;
        if (epoll_ctl(epfd_.get(), EPOLL_CTL_MOD, fd, &ev) < 0) {
            LOG(Agent).error("epoll_ctl mod fd {}: {}", fd, std::strerror(errno));
        }
    }

    void removeClient(ClientKey key, int fd) {
        std::lock_guard lock(mutex_);
        epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, fd, nullptr);
        clients_.erase(key);
    }

    void runOnce() {
        std::unique_lock lock(mutex_);
        const int wait_ms = nextWaitMs(nowMs());
        loop_thread_ = std::this_thread::get_id();
        waiting_ = true;
        lock.unlock();
        std::array<epoll_event, 64> events;
        const int n =
            epoll_wait(epfd_.get(), events.data(), static_cast<int>(events.size()), wait_ms);
        const int wait_errno = errno;
        lock.lock();
        waiting_ = false;
        if (n < 0 && wait_errno != EINTR)
            LOG(Agent).error("epoll_wait: {}", std::strerror(wait_errno));
        dispatchTimeouts(lock);
        for (int i = 0; i < n; ++i) {
            // epoll_event is packed on x86_64: copy fields out, never bind refs.
            const std::uint64_t key = events[static_cast<std::size_t>(i)].data.u64;
            const std::uint32_t ready = events[static_cast<std::size_t>(i)].events;
            dispatchOne(lock, key, ready);
        }
        std::erase_if(timeouts_, [](const Timeout& t) { return t.removed; });
        std::vector<std::pair<virFreeCallback, void*>> frees;
        if (!frees_.empty()) frees.swap(frees_);
        lock.unlock();
        // Outside the lock and after every callback of this turn: a free
        // callback may itself add or remove handles.
        for (auto& [ff, opaque] : frees) ff(opaque);
    }

    std::size_t pendingFrees() {
        std::lock_guard lock(mutex_);
        return frees_.size();
    }

  private:
    // Brings the epoll set in line with h.epoll_events; false when the fd
    // cannot be polled at all.
    bool sync(int id, Handle& h) {
        epoll_event ev{};
        ev.events = h.epoll_events;
        ev.data.u64 = static_cast<std::uint64_t>(id);
        if (h.epoll_events == 0) {
            if (h.in_set) epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, h.polled_fd, nullptr);
            h.in_set = false;
            return true;
        }
        if (h.in_set) {
            if (epoll_ctl(epfd_.get(), EPOLL_CTL_MOD, h.polled_fd, &ev) == 0) return true;
            LOG(Agent).error("event loop: cannot update fd {}: {}", h.fd, std::strerror(errno));
            return false;
        }
        int rc = epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, h.polled_fd, &ev);
        if (rc < 0 && errno == EEXIST && h.polled_fd == h.fd) {
            // poll lets two handles watch one fd; epoll wants another fd for
            // the same file.
            h.polled_fd = fcntl(h.fd, F_DUPFD_CLOEXEC, 0);
            if (h.polled_fd < 0) {
                h.polled_fd = h.fd;
            } else {
                rc = epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, h.polled_fd, &ev);
            }
        }
        if (rc < 0) {
            LOG(Agent).error("event loop: cannot watch fd {}: {}", h.fd, std::strerror(errno));
            return false;
        }
        h.in_set = true;
        return true;
    }

    int nextWaitMs(std::int64_t now) const {
        std::int64_t wait = -1;
        for (const Timeout& t : timeouts_) {
            if (t.removed || t.frequency_ms < 0) continue;
            const std::int64_t left = std::max<std::int64_t>(t.due_ms - now, 0);
            if (wait < 0 || left < wait) wait = left;
        }
        return static_cast<int>(std::min<std::int64_t>(wait, 1 << 30));
    }

    void dispatchTimeouts(std::unique_lock<std::mutex>& lock) {
        const std::int64_t now = nowMs();
        // Only those that existed before this turn; the vector may grow (and
        // move) while a callback runs, so walk by index.
        const std::size_t count = timeouts_.size();
        for (std::size_t i = 0; i < count; ++i) {
            Timeout& t = timeouts_[i];
            if (t.removed || t.frequency_ms < 0 || t.due_ms > now) continue;
            t.due_ms = now + t.frequency_ms;
            const int id = t.id;
            auto cb = t.cb;
            void* opaque = t.opaque;
            lock.unlock();
            cb(id, opaque);
            lock.lock();
        }
    }

    void dispatchOne(std::unique_lock<std::mutex>& lock, std::uint64_t key, std::uint32_t ready) {
        if (key == kWakeKey) {
            std::uint64_t count;
            if (::read(wake_.get(), &count, sizeof count) < 0) { /* already drained */
            }
            return;
        }
        if (key & kClientBit) {
            auto it = clients_.find(key);
            if (it == clients_.end()) return;  // removed earlier in this batch
            EpollClient* client = it->second;
            lock.unlock();
            // One client's failure never skips the rest of the batch.
            try {
                client->onEpollEvents(ready);
            } catch (const std::exception& e) {
                LOG(Agent).error("channel event handler failed: {}", e.what());
            } catch (...) {
                LOG(Agent).error("channel event handler failed");
            }
            lock.lock();
            return;
        }
        const int id = static_cast<int>(key);
        auto it = handles_.find(id);
        if (it == handles_.end() || !it->second.in_set) return;
        const Handle h = it->second;
        lock.unlock();
        h.cb(id, h.fd, fromEpoll(ready), h.opaque);
        lock.lock();
    }

    Timeout* findTimeout(int id) {
        for (Timeout& t : timeouts_) {
            if (t.id == id && !t.removed) return &t;
        }
        return nullptr;
    }

    // libvirt may call in from a thread of its own: a changed timeout must
    // end the loop's current wait. The agent's own thread never pays this.
    void wakeFromOtherThread() {
        if (!waiting_ || std::this_thread::get_id() == loop_thread_) return;
        const std::uint64_t one = 1;
        if (::write(wake_.get(), &one, sizeof one) < 0) { /* a wake-up is already pending */
        }
    }

    std::mutex mutex_;
    UniqueFd epfd_;
    UniqueFd wake_;
    std::unordered_map<int, Handle> handles_;
    std::unordered_map<ClientKey, EpollClient*> clients_;
    std::vector<Timeout> timeouts_;
    std::vector<std::pair<virFreeCallback, void*>> frees_;
    int next_watch_ = 1;
    int next_timer_ = 1;
    std::uint64_t next_client_ = 1;
    bool waiting_ = false;
    std::thread::id loop_thread_;
};

// Never destroyed: libvirt keeps the registered functions for the life of the
// process, and free callbacks still pending at exit must stay reachable.
Loop& loop() {
    static Loop* const instance = new Loop();
    return *instance;
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
    return orMinusOne([&] { return loop().addHandle(fd, events, cb, opaque, ff); });
}
void updateHandleCb(int watch, int events) {
    orMinusOne([&] { return loop().updateHandle(watch, events), 0; });
}
int removeHandleCb(int watch) {
    return orMinusOne([&] { return loop().removeHandle(watch); });
}
int addTimeoutCb(int frequency, virEventTimeoutCallback cb, void* opaque, virFreeCallback ff) {
    return orMinusOne([&] { return loop().addTimeout(frequency, cb, opaque, ff); });
}
void updateTimeoutCb(int timer, int frequency) {
    orMinusOne([&] { return loop().updateTimeout(timer, frequency), 0; });
}
int removeTimeoutCb(int timer) {
    return orMinusOne([&] { return loop().removeTimeout(timer); });
}

}  // namespace

void registerWithLibvirt() {
    static const bool registered = [] {
        loop();  // its fds exist before libvirt's first call
        virEventRegisterImpl(addHandleCb, updateHandleCb, removeHandleCb, addTimeoutCb,
                             updateTimeoutCb, removeTimeoutCb);
        return true;
    }();
    (void)registered;
}

void runOnce() {
    loop().runOnce();
}

ClientKey addClient(int fd, std::uint32_t events, EpollClient& client) {
    return loop().addClient(fd, events, client);
}

void modifyClient(ClientKey key, int fd, std::uint32_t events) {
    loop().modifyClient(key, fd, events);
}

void removeClient(ClientKey key, int fd) {
    loop().removeClient(key, fd);
}

std::size_t pendingFrees() {
    return loop().pendingFrees();
}

}  // namespace vmpower::epoll_event_impl
