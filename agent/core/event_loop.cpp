#include "event_loop.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "log.h"
#include "system_error.h"
#include "unique_fd.h"

namespace vmpower {

struct EventLoop::TimerSlot {
    TimerCallback cb;
    std::int64_t due_ms = -1;  // -1: not armed
    bool removed = false;
};

namespace {

// Key 0 in epoll_event.data is the wake-up eventfd; registrations count up
// from 1 and are never reused.
constexpr std::uint64_t kWakeKey = 0;

std::int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Logs what a callback threw: nothing leaves a loop callback.
template <typename F>
void guarded(const char* what, int fd, F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        if (fd >= 0) {
            LOG(Agent).error("{} for fd {} failed: {}", what, fd, e.what());
        } else {
            LOG(Agent).error("{} failed: {}", what, e.what());
        }
    } catch (...) {
        if (fd >= 0) {
            LOG(Agent).error("{} for fd {} failed", what, fd);
        } else {
            LOG(Agent).error("{} failed", what);
        }
    }
}

class Loop {
  public:
    Loop() : epfd_(epoll_create1(EPOLL_CLOEXEC)), wake_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
        if (!epfd_ || !wake_) throw SystemError("create the event loop", errno);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = kWakeKey;
        if (epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, wake_.get(), &ev) < 0) {
            throw SystemError("create the event loop", errno);
        }
    }

    std::uint64_t add(int fd, std::uint32_t events, EpollClient& client) {
        std::lock_guard lock(mutex_);
        const std::uint64_t key = next_key_;
        epoll_event ev{};
        ev.events = events;
        ev.data.u64 = key;
        if (epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, fd, &ev) < 0)
            throw SystemError("epoll_ctl add", errno);
        clients_.emplace(key, Client{&client, fd});
        ++next_key_;
        return key;
    }

    void modify(std::uint64_t key, int fd, std::uint32_t events) {
        epoll_event ev{};
        ev.events = events;
        ev.data.u64 = key;
        if (epoll_ctl(epfd_.get(), EPOLL_CTL_MOD, fd, &ev) < 0) {
            LOG(Agent).error("epoll_ctl mod fd {}: {}", fd, std::strerror(errno));
        }
    }

    void remove(std::uint64_t key, int fd) {
        std::lock_guard lock(mutex_);
        epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, fd, nullptr);
        clients_.erase(key);  // an event still pending in this turn finds nothing
    }

    EventLoop::TimerSlot* addTimer(EventLoop::TimerCallback cb) {
        std::lock_guard lock(mutex_);
        timers_.push_back(std::make_unique<EventLoop::TimerSlot>());
        timers_.back()->cb = std::move(cb);
        return timers_.back().get();
    }

    void setTimer(EventLoop::TimerSlot& t, std::int64_t delay_ms) {
        std::lock_guard lock(mutex_);
        t.due_ms = delay_ms < 0 ? -1 : nowMs() + delay_ms;
        wakeFromOtherThread();
    }

    bool timerArmed(const EventLoop::TimerSlot& t) {
        std::lock_guard lock(mutex_);
        return t.due_ms >= 0;
    }

    void removeTimer(EventLoop::TimerSlot& t) {
        std::lock_guard lock(mutex_);
        t.removed = true;  // freed at the end of a turn: dispatch walks by index
        t.due_ms = -1;
    }

    void atTurnEnd(void (*fn)(void*), void* opaque) {
        std::lock_guard lock(mutex_);
        at_turn_end_.emplace_back(fn, opaque);
    }

    std::size_t pendingAtTurnEnd() {
        std::lock_guard lock(mutex_);
        return at_turn_end_.size();
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
        const auto woke = std::chrono::steady_clock::now();
        lock.lock();
        waiting_ = false;
        if (n < 0 && wait_errno != EINTR)
            LOG(Agent).error("epoll_wait: {}", std::strerror(wait_errno));
        dispatchTimers(lock);
        for (int i = 0; i < n; ++i) {
            // epoll_event is packed on x86_64: copy fields out, never bind refs.
            const std::uint64_t key = events[static_cast<std::size_t>(i)].data.u64;
            const std::uint32_t ready = events[static_cast<std::size_t>(i)].events;
            dispatchOne(lock, key, ready);
        }
        std::erase_if(timers_, [](const auto& t) { return t->removed; });
        std::vector<std::pair<void (*)(void*), void*>> at_end;
        if (!at_turn_end_.empty()) at_end.swap(at_turn_end_);
        lock.unlock();
        // Outside the lock and after every callback of this turn: a free
        // callback may itself add or remove handles.
        for (auto& [fn, opaque] : at_end) fn(opaque);
        const auto took = std::chrono::steady_clock::now() - woke;
        lock.lock();
        turns_.record(std::chrono::duration_cast<std::chrono::nanoseconds>(took));
    }

    LoopTurns turns() {
        std::lock_guard lock(mutex_);
        return turns_;
    }

  private:
    struct Client {
        EpollClient* client;
        int fd;
    };

    int nextWaitMs(std::int64_t now) const {
        std::int64_t wait = -1;
        for (const auto& t : timers_) {
            if (t->removed || t->due_ms < 0) continue;
            const std::int64_t left = std::max<std::int64_t>(t->due_ms - now, 0);
            if (wait < 0 || left < wait) wait = left;
        }
        return static_cast<int>(std::min<std::int64_t>(wait, 1 << 30));
    }

    void dispatchTimers(std::unique_lock<std::mutex>& lock) {
        const std::int64_t now = nowMs();
        // Only those that existed before this turn; the vector may grow (and
        // move) while a callback runs, so walk by index. A slot lives until
        // the end of the turn, even when its Timer goes inside the callback.
        const std::size_t count = timers_.size();
        for (std::size_t i = 0; i < count; ++i) {
            EventLoop::TimerSlot* t = timers_[i].get();
            if (t->removed || t->due_ms < 0 || t->due_ms > now) continue;
            t->due_ms = -1;  // one-shot: the body may re-arm it
            lock.unlock();
            guarded("timer", -1, [t] { t->cb(); });
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
        auto it = clients_.find(key);
        if (it == clients_.end()) return;  // removed earlier in this batch
        const Client c = it->second;
        lock.unlock();
        // One client's failure never skips the rest of the batch.
        guarded("event handler", c.fd, [&] { c.client->onEpollEvents(ready); });
        lock.lock();
    }

    // libvirt may call in from a thread of its own: a changed timer must end
    // the loop's current wait. The agent's own thread never pays this.
    void wakeFromOtherThread() {
        if (!waiting_ || std::this_thread::get_id() == loop_thread_) return;
        const std::uint64_t one = 1;
        if (::write(wake_.get(), &one, sizeof one) < 0) { /* a wake-up is already pending */
        }
    }

    std::mutex mutex_;
    UniqueFd epfd_;
    UniqueFd wake_;
    std::unordered_map<std::uint64_t, Client> clients_;
    std::vector<std::unique_ptr<EventLoop::TimerSlot>> timers_;
    std::vector<std::pair<void (*)(void*), void*>> at_turn_end_;
    LoopTurns turns_;  // every turn so far (turns())
    std::uint64_t next_key_ = 1;
    bool waiting_ = false;
    std::thread::id loop_thread_;
};

// Never destroyed: libvirt keeps the registered functions for the life of the
// process, and work left for a turn's end at exit must stay reachable.
Loop& loop() {
    static Loop* const instance = new Loop();
    return *instance;
}

}  // namespace

void EventLoop::runOnce() {
    loop().runOnce();
}

void EventLoop::atTurnEnd(void (*fn)(void*), void* opaque) {
    loop().atTurnEnd(fn, opaque);
}

std::size_t EventLoop::pendingAtTurnEnd() {
    return loop().pendingAtTurnEnd();
}

LoopTurns EventLoop::turns() {
    return loop().turns();
}

EventLoop::Registration::Registration(std::uint64_t key, int fd,
                                      std::unique_ptr<FunctionClient> owned)
    : key_(key), fd_(fd), owned_(std::move(owned)) {}

EventLoop::Registration::Registration(Registration&& o) noexcept
    : key_(std::exchange(o.key_, 0)), fd_(std::exchange(o.fd_, -1)), owned_(std::move(o.owned_)) {}

EventLoop::Registration& EventLoop::Registration::operator=(Registration&& o) noexcept {
    if (this != &o) {
        reset();
        key_ = std::exchange(o.key_, 0);
        fd_ = std::exchange(o.fd_, -1);
        owned_ = std::move(o.owned_);
    }
    return *this;
}

EventLoop::Registration::~Registration() {
    reset();
}

void EventLoop::Registration::modify(std::uint32_t events) {
    if (key_ != 0) loop().modify(key_, fd_, events);
}

void EventLoop::Registration::reset() {
    if (key_ != 0) loop().remove(key_, fd_);
    key_ = 0;
    fd_ = -1;
    owned_.reset();
}

EventLoop::Registration EventLoop::add(int fd, std::uint32_t events, EpollClient& client) {
    return Registration(loop().add(fd, events, client), fd, nullptr);
}

EventLoop::Registration EventLoop::watch(int fd, std::uint32_t events, FdCallback cb) {
    auto owned = std::make_unique<Registration::FunctionClient>(std::move(cb));
    const std::uint64_t key = loop().add(fd, events, *owned);
    return Registration(key, fd, std::move(owned));
}

EventLoop::Timer::Timer(TimerCallback cb) : slot_(loop().addTimer(std::move(cb))) {}

EventLoop::Timer::~Timer() {
    // The loop frees the slot at the end of a turn; it never fires again.
    loop().removeTimer(*slot_);
}

void EventLoop::Timer::arm(std::chrono::milliseconds delay) {
    loop().setTimer(*slot_, std::max<std::int64_t>(delay.count(), 0));
}

void EventLoop::Timer::cancel() {
    loop().setTimer(*slot_, -1);
}

bool EventLoop::Timer::armed() const {
    return loop().timerArmed(*slot_);
}

}  // namespace vmpower
