#pragma once
// What the request path keeps per channel: its rate-limit bucket, its log
// throttle, its counters and its matched policy rule. Opaque to the rest of the agent.

#include <chrono>
#include <memory>
#include <string>

#include "log_throttle.h"
#include "request_handler.h"
#include "token_bucket.h"

namespace vmpower {

struct ChannelRequestState {
    TokenBucket bucket;
    LogThrottle refusal_log{std::chrono::seconds(10)};
    RequestCounters counters;
    // The channel's rule, matched once per set of rules in force (a reload
    // or an override replaces RulesInForce's pointer with a new AccessRules,
    // which is how a stale match is seen) and guest, not per request:
    // matching canonicalises the UUID and tries every glob. `matched_rules`
    // keeps the set the rule points into alive, so its address cannot be
    // reused by a newer set while it is compared.
    std::shared_ptr<const AccessRules> matched_rules;
    std::string matched_name, matched_uuid;
    const AccessRule* rule = nullptr;
};

}  // namespace vmpower
