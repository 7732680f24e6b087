#pragma once
// The answer to a call that runs off the loop (libvirt's calls run on the
// worker thread, docs/architecture.md "One loop"). The answer is a value or
// why there is none (`Checked<T>`, or a `Verdict` for a call that only
// succeeds or fails), handed to a callback that always runs on the loop
// thread and never from inside the call that started the work.
//
// The caller keeps the returned `AsyncCall`; destroying or resetting it means
// "no longer interested": the callback is never run then (the work itself may
// have started and runs to its end, or is skipped when it has not). So a
// callback may capture `this` of whoever holds the AsyncCall.

#include <atomic>
#include <functional>
#include <memory>
#include <utility>

#include "verdict.h"

namespace vmpower {

template <typename T>
using Done = std::function<void(Checked<T>)>;
using DoneVerdict = std::function<void(Verdict)>;

class [[nodiscard]] AsyncCall {
  public:
    AsyncCall() = default;
    AsyncCall(AsyncCall&& o) noexcept : state_(std::move(o.state_)) {}
    AsyncCall& operator=(AsyncCall&& o) noexcept {
        if (this != &o) {
            reset();
            state_ = std::move(o.state_);
        }
        return *this;
    }
    AsyncCall(const AsyncCall&) = delete;
    AsyncCall& operator=(const AsyncCall&) = delete;
    ~AsyncCall() { reset(); }

    void reset() {
        if (state_) state_->wanted = false;
        state_.reset();
    }
    // Started, still wanted and not answered yet (false inside its callback).
    bool pending() const { return state_ && state_->wanted && !state_->answered; }

    // For whoever runs the work: the caller's handle, and the callback to
    // call (on the loop) with the answer; it runs `done` only while the
    // handle still wants it. `wanted()` tells the worker whether to start.
    struct State {
        std::atomic<bool> wanted{true};  // the worker thread reads it
        bool answered = false;           // the loop thread only
    };
    template <typename R>
    static std::pair<AsyncCall, std::function<void(R)>> start(std::function<void(R)> done) {
        auto state = std::make_shared<State>();
        AsyncCall call(state);
        auto guarded = [state, done = std::move(done)](R answer) {
            if (!state->wanted || state->answered) return;
            state->answered = true;
            done(std::move(answer));
        };
        return {std::move(call), std::move(guarded)};
    }
    std::shared_ptr<const State> state() const { return state_; }

  private:
    explicit AsyncCall(std::shared_ptr<State> state) : state_(std::move(state)) {}
    std::shared_ptr<State> state_;
};

}  // namespace vmpower
