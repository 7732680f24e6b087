#pragma once
// A power channel's state and statistics as values, and each statistic's
// value for the protocol's list of them (protocol::object::kChannelStatistics):
// the control JSON (list-channels, show-vm) and the Prometheus metrics are
// both rendered from that list.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "control_protocol.h"
#include "request_counters.h"

namespace vmpower {

enum class ChannelState { Connecting, Connected, Refused, Failed, Closed, Disabled };

inline constexpr std::array kChannelStates{ChannelState::Connecting, ChannelState::Connected,
                                           ChannelState::Refused,    ChannelState::Failed,
                                           ChannelState::Closed,     ChannelState::Disabled};

const char* channelStateName(ChannelState s);

struct ChannelStats {
    std::uint64_t connects = 0, bytes_in = 0, partial_dropped = 0;
    RequestCounters requests;
    std::uint64_t replies_sent = 0, replies_dropped = 0;
    std::string last_error;
};

// Each statistic's value, row for row with the protocol's list
// (common/control_protocol.h: key, vmpowerctl column, Prometheus family).
struct ChannelCounter {
    std::string_view key;  // the protocol row's, checked below
    std::uint64_t (*value)(const ChannelStats&);
};

inline constexpr std::array<ChannelCounter, protocol::object::kChannelStatistics.size()>
    kChannelCounters{{
        {"connects", [](const ChannelStats& s) { return s.connects; }},
        {"records", [](const ChannelStats& s) { return s.requests.records; }},
        {"acked", [](const ChannelStats& s) { return s.requests.acked; }},
        {"nacked", [](const ChannelStats& s) { return s.requests.nacked; }},
        {"answered", [](const ChannelStats& s) { return s.requests.answered; }},
        {"ignored", [](const ChannelStats& s) { return s.requests.ignored; }},
        {"rate_limited", [](const ChannelStats& s) { return s.requests.rate_limited; }},
        {"replies_sent", [](const ChannelStats& s) { return s.replies_sent; }},
        {"replies_dropped", [](const ChannelStats& s) { return s.replies_dropped; }},
    }};

static_assert(
    [] {
        for (std::size_t i = 0; i < kChannelCounters.size(); ++i) {
            if (kChannelCounters[i].key != protocol::object::kChannelStatistics[i].key)
                return false;
        }
        return true;
    }(),
    "kChannelCounters must follow protocol::object::kChannelStatistics row for row");

// Calls f(statistic, value) for each of the protocol's channel statistics.
template <typename F>
void forEachChannelStatistic(const ChannelStats& s, F&& f) {
    for (std::size_t i = 0; i < kChannelCounters.size(); ++i)
        f(protocol::object::kChannelStatistics[i], kChannelCounters[i].value(s));
}

}  // namespace vmpower
