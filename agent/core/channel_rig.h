#pragma once
// For agent/core's unit tests: what a Channel needs around it (ChannelEnv) —
// the loop, the retry scheduler and a request handler over
// fakes — built in the order they depend on each other.

#include <memory>
#include <utility>
#include <vector>

#include "channel.h"
#include "event_loop.h"
#include "retry_scheduler.h"
#include "test_support.h"

namespace vmpower::testing {

template <typename ClockT>
struct ChannelRig {
    ChannelRig(std::vector<AccessRule> rules, std::size_t reply_queue_records)
        : rules_in_force(std::make_shared<const AccessRules>(std::move(rules))),
          handler(power, clock, sharing, rules_in_force, {.observer = &hold_observer}),
          env{retries, handler, peers, reply_queue_records} {}

    // The handler's HoldObserver is given at construction, but a test's
    // observer (a PowerIntentKeeper) needs this rig's scheduler first: it
    // hears through this forwarder once set.
    struct ForwardingObserver final : HoldObserver {
        void onApplied(const GuestIdentity& guest, const Requester& who, const CpuSet& pcpus,
                       const FrequencyLimits& limits) noexcept override {
            if (to != nullptr) to->onApplied(guest, who, pcpus, limits);
        }
        HoldObserver* to = nullptr;
    };

    bool loop = (EventLoop::registerImpl(), true);  // before anything adds a handle
    ClockT clock;
    RetryScheduler retries{clock};
    FakePowerControl power;
    FakeSharing sharing;
    TrustingPeerVerifier peers;
    RulesInForce rules_in_force;
    ForwardingObserver hold_observer;
    RequestHandler handler;
    ChannelEnv env;
};

}  // namespace vmpower::testing
