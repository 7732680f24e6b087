#include "libvirt_worker.h"

#include <pthread.h>
#include <sys/eventfd.h>

#include <csignal>

#include <cerrno>
#include <chrono>

#include "log.h"
#include "system_error.h"

namespace vmpower {

LibvirtWorker::LibvirtWorker() : wake_loop_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (!wake_loop_) throw SystemError("eventfd for the libvirt worker", errno);
    watch_ = EventLoop::watch(wake_loop_.get(), EPOLLIN, [this](std::uint32_t) { deliver(); });
    // Signals are the loop's (its signalfd): the worker is born with every
    // signal blocked, so none is ever delivered to it.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    thread_ = std::thread([this] { work(); });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

void LibvirtWorker::stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        stopping_ = true;
    }
    wake_worker_.notify_one();
    if (thread_.joinable()) thread_.join();
    std::deque<std::function<void()>> dropped;
    {
        std::lock_guard lock(mutex_);
        dropped.swap(answers_);
    }
}

void LibvirtWorker::enqueue(std::shared_ptr<const AsyncCall::State> state,
                            std::function<void()> run) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;  // the caller's AsyncCall never answers
        jobs_.push_back(Job{std::move(state), std::move(run)});
        stats_.queued = jobs_.size();
    }
    wake_worker_.notify_one();
}

void LibvirtWorker::detach(std::function<void()> fn) {
    static const auto always = std::make_shared<const AsyncCall::State>();  // wanted forever
    enqueue(always, [fn = std::move(fn)] {
        try {
            fn();
        } catch (const std::exception& e) {
            LOG(Libvirt).error("libvirt worker: {}", e.what());
        }
    });
}

void LibvirtWorker::work() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_worker_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // stopping, nothing left
        Job job = std::move(jobs_.front());
        jobs_.pop_front();
        stats_.queued = jobs_.size();
        if (!job.state->wanted) {
            ++stats_.skipped;
            // Its callbacks may hold what only the loop should destroy.
            answers_.push_back([j = std::move(job)] {});
            continue;
        }
        lock.unlock();
        const auto began = std::chrono::steady_clock::now();
        job.run();  // never throws: post() wraps the call
        const double took =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
        lock.lock();
        ++stats_.calls;
        if (took > stats_.longest_seconds) stats_.longest_seconds = took;
        answers_.push_back([j = std::move(job)] {});
    }
}

void LibvirtWorker::toLoop(std::function<void()> fn) {
    {
        std::lock_guard lock(mutex_);
        answers_.push_back(std::move(fn));
    }
    const std::uint64_t one = 1;
    if (::write(wake_loop_.get(), &one, sizeof one) < 0) { /* a wake-up is already pending */
    }
}

void LibvirtWorker::deliver() {
    std::uint64_t count;
    if (::read(wake_loop_.get(), &count, sizeof count) < 0) { /* drained by an earlier turn */
    }
    std::deque<std::function<void()>> ready;
    {
        std::lock_guard lock(mutex_);
        ready.swap(answers_);
    }
    for (auto& fn : ready) {
        // One answer's failure never drops the others.
        try {
            fn();
        } catch (const std::exception& e) {
            LOG(Libvirt).error("handling a libvirt answer failed: {}", e.what());
        } catch (...) {
            LOG(Libvirt).error("handling a libvirt answer failed");
        }
    }
}

LibvirtWorker::Stats LibvirtWorker::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

}  // namespace vmpower
