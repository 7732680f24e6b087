#pragma once
// A power channel's state and statistics as values, and the one definition
// of the statistics' names: the control JSON (list-channels, show-vm) and
// the Prometheus metrics are both rendered from kChannelStatistics.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

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

// One counter of a channel. Rows of one Prometheus family are adjacent;
// the family's help is on its first row.
struct ChannelStatistic {
    std::string_view key;  // the control JSON's key
    std::uint64_t (*value)(const ChannelStats&);
    std::string_view metric = {};  // the Prometheus family; empty: not exported
    std::string_view help = {};
    std::string_view result = {};  // the family's `result` label, if any
};

inline constexpr std::array<ChannelStatistic, 9> kChannelStatistics{{
    {"connects", [](const ChannelStats& s) { return s.connects; }, "vmpower_channel_connects_total",
     "Connections made to the channel's QEMU socket."},
    {"records", [](const ChannelStats& s) { return s.requests.records; }},
    {"acked", [](const ChannelStats& s) { return s.requests.acked; }, "vmpower_replies_total",
     "Replies to the guest by result.", "ack"},
    {"nacked", [](const ChannelStats& s) { return s.requests.nacked; }, "vmpower_replies_total", "",
     "nack"},
    {"answered", [](const ChannelStats& s) { return s.requests.answered; }, "vmpower_replies_total",
     "", "answer"},
    {"ignored", [](const ChannelStats& s) { return s.requests.ignored; },
     "vmpower_requests_ignored_total",
     "Records answered with nothing (CONNECT probes, unknown commands)."},
    {"rate_limited", [](const ChannelStats& s) { return s.requests.rate_limited; },
     "vmpower_requests_rate_limited_total",
     "Requests refused by the rule's rate limit (also counted as nack)."},
    {"replies_sent", [](const ChannelStats& s) { return s.replies_sent; }},
    {"replies_dropped", [](const ChannelStats& s) { return s.replies_dropped; },
     "vmpower_replies_dropped_total",
     "Replies dropped because the guest did not read them (queue full)."},
}};

}  // namespace vmpower
