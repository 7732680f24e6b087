#pragma once
// The one thread that asks libvirt things (docs/architecture.md "One loop").
// Every libvirt call that is a round trip to libvirtd — and may wait for it,
// for a domain's job lock (up to 30 s during a migration), or for what
// libvirtd runs on its behalf (ovs-vsctl per vhost-user port) — is posted
// here and runs in order on this thread; its answer comes back to the loop
// through an eventfd the loop watches, so the loop never waits on libvirt.
// libvirt's events still arrive on the loop: the connection's socket is one
// of the loop's fds (epoll_event_impl.h), and libvirt hands events to their
// callbacks through the loop's timers.
//
// Why a thread and not libvirt's own asynchrony: libvirt's C API has none
// (every call blocks its caller). One thread is enough: calls are short
// unless libvirtd is stuck, and then more threads would only queue behind
// the same lock; order is kept (a lookup answered after the write before it).

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#include "async_call.h"
#include "event_loop.h"
#include "unique_fd.h"

namespace vmpower {

class LibvirtWorker {
  public:
    LibvirtWorker();
    ~LibvirtWorker() { stop(); }
    LibvirtWorker(const LibvirtWorker&) = delete;
    LibvirtWorker& operator=(const LibvirtWorker&) = delete;

    // Runs `call` on the worker thread, then `done` with its answer on the
    // loop. R is Verdict or Checked<T>; what `call` throws becomes a refusal
    // with the exception's text. A call nobody wants any more when its turn
    // comes is skipped.
    template <typename R>
    AsyncCall post(std::function<R()> call, std::function<void(R)> done) {
        auto started = AsyncCall::start<R>(std::move(done));
        AsyncCall handle = std::move(started.first);
        auto answer = std::move(started.second);  // no structured binding: lambdas capture it
        enqueue(handle.state(), [this, call = std::move(call), answer = std::move(answer)]() mutable {
            std::optional<R> result;
            try {
                result.emplace(call());
            } catch (const std::exception& e) {
                result.emplace(refusal<R>(e.what()));
            } catch (...) {
                result.emplace(refusal<R>("unknown error"));
            }
            toLoop([answer = std::move(answer), r = std::move(*result)]() mutable {
                answer(std::move(r));
            });
        });
        return handle;
    }

    // Stops the thread: the call in progress ends (libvirt's own timeouts
    // bound it), calls still wanted run, then the thread is joined. Answers
    // not yet delivered are dropped. The owner calls it while the state its
    // calls use still exists. Later posts are refused.
    void stop();

    // Runs `fn` on the worker thread in its turn, whatever happens (no
    // answer): for the worker's own upkeep (closing the connection,
    // forgetting a stopped domain's cached handle).
    void detach(std::function<void()> fn);

    // Runs fn on the loop thread at its next turn. From any thread: for
    // libvirt callbacks that may arrive on the worker (the close callback).
    void toLoop(std::function<void()> fn);

    // True on the worker thread (what only it may touch asserts this).
    bool onWorker() const { return std::this_thread::get_id() == thread_.get_id(); }

    struct Stats {
        std::uint64_t calls = 0;    // run
        std::uint64_t skipped = 0;  // nobody wanted the answer any more
        std::uint64_t queued = 0;   // waiting now
        double longest_seconds = 0;
    };
    Stats stats() const;

  private:
    template <typename R>
    static R refusal(std::string why) {
        if constexpr (std::is_same_v<R, Verdict>) {
            return Verdict::refused(std::move(why));
        } else {
            return R::refused(std::move(why));
        }
    }
    struct Job {
        std::shared_ptr<const AsyncCall::State> state;
        std::function<void()> run;
    };
    void enqueue(std::shared_ptr<const AsyncCall::State> state, std::function<void()> run);
    void work();
    void deliver();

    mutable std::mutex mutex_;
    std::condition_variable wake_worker_;
    std::deque<Job> jobs_;
    std::deque<std::function<void()>> answers_;
    bool stopping_ = false;
    Stats stats_;
    UniqueFd wake_loop_;              // eventfd: answers are waiting
    EventLoop::Registration watch_;  // before wake_loop_ closes
    std::thread thread_;             // last: starts when the rest exists
};

}  // namespace vmpower
