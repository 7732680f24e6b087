#pragma once
// Closed-loop load on connected channels: every channel has exactly one
// 464-byte CPU_POWER record in flight (SCALE_UP and SCALE_DOWN alternating);
// the reply sends the next one. Latency is request sent -> whole reply read.

#include <chrono>
#include <cstdint>
#include <vector>

#include "unique_fd.h"

namespace vmpower::bench {

// What counts as a good reply: vmpowerd and DPDK answer an ACK record, the
// echo floor returns the request's bytes.
enum class ReplyKind { Ack, Echo };

struct LoopResult {
    std::uint64_t requests = 0;  // replies received while measuring
    std::uint64_t good = 0;      // of them ACK (or the exact echo)
    std::uint64_t bad = 0;       // NACK or wrong bytes
    std::uint64_t lost = 0;      // no reply before the drain timeout / connection closed
    double seconds = 0;
    double p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
    double rps() const { return seconds > 0 ? static_cast<double>(requests) / seconds : 0; }
};

// One SCALE_MAX on every channel, all at once, waiting for every reply:
// after it every domain holds a level, so the shared-hardware rule consents
// to the UP/DOWN that follow. Returns the number of good replies.
std::uint64_t primeChannels(const std::vector<UniqueFd>& conns, ReplyKind kind,
                            std::chrono::milliseconds timeout);

// `warmup` of untimed load, then `duration` measured.
LoopResult runClosedLoop(const std::vector<UniqueFd>& conns, ReplyKind kind,
                         std::chrono::milliseconds warmup, std::chrono::milliseconds duration);

}  // namespace vmpower::bench
