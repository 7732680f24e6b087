#pragma once
// What the request path keeps per channel: its rate-limit bucket, its log
// throttle and its counters. Opaque to the rest of the agent.

#include <chrono>

#include "log_throttle.h"
#include "request_handler.h"
#include "token_bucket.h"

namespace vmpower {

struct ChannelRequestState {
    TokenBucket bucket;
    LogThrottle refusal_log{std::chrono::seconds(10)};
    RequestCounters counters;
};

}  // namespace vmpower
