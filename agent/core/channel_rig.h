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
        : handler(power, clock, sharing, std::make_shared<const AccessRules>(std::move(rules))),
          env{retries, handler, peers, reply_queue_records} {}

    bool loop = (EventLoop::registerImpl(), true);  // before anything adds a handle
    ClockT clock;
    RetryScheduler retries{clock};
    FakePowerControl power;
    FakeSharing sharing;
    TrustingPeerVerifier peers;
    RequestHandler handler;
    ChannelEnv env;
};

}  // namespace vmpower::testing
