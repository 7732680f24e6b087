#pragma once
// TRAFFIC's interface statistics, asked of the TrafficSource off the loop:
// at most ONE sample in flight, and the next one due after the sampling
// interval, stretched while the source is slow (twice the last sample's
// duration, up to a cap) so a slow hypervisor is never asked faster than it
// answers. A refusal is logged once per new reason. The engine
// (host_policy_engine) says whom to sample and hands the answer to the
// policies; show-vm and the metrics read view().

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "async_call.h"
#include "clock.h"
#include "policy_sources.h"

namespace vmpower {

// How the interface statistics are sampled now (show-vm, metrics).
struct TrafficSamplingView {
    std::chrono::milliseconds interval{};                    // between samples now
    std::optional<std::chrono::milliseconds> last_duration;  // none: nothing answered yet
    std::uint64_t samples = 0;                               // answered
    std::uint64_t failures = 0;                              // refused by the source
    std::string last_error;  // the last sample's refusal; "" when it answered
    bool in_flight = false;
};

class TrafficSampler {
  public:
    // The domains asked about, and the answer (null: the source refused).
    using Answered =
        std::function<void(const std::vector<std::string>& asked, const TrafficSample* sample)>;

    // `source` null: never samples. `interval`: the configured one;
    // `cap`: the longest a slow source stretches it to.
    TrafficSampler(TrafficSource* source, const Clock* clock, std::chrono::milliseconds interval,
                   std::chrono::milliseconds cap);

    // When the next sample is due; none while one is in flight (its answer
    // sets the next) or without a source.
    std::optional<Clock::TimePoint> dueAt() const;
    bool due(Clock::TimePoint now) const {
        const auto at = dueAt();
        return at && now >= *at;
    }
    // Asks for the interface counters of `uuids`; `answered` runs on the
    // loop later, never from inside this call, and never after this
    // sampler is gone. Does nothing while a sample is in flight.
    void start(std::vector<std::string> uuids, Answered answered);

    TrafficSamplingView view() const;

  private:
    void finish(const std::vector<std::string>& asked, Clock::TimePoint started,
                const Checked<TrafficSample>& got, const Answered& answered);

    TrafficSource* source_;
    const Clock* clock_;
    std::chrono::milliseconds base_, cap_;
    TrafficSamplingView stats_;
    Clock::TimePoint next_{};  // the first sample at once
    AsyncCall call_;           // last: dropped first, so no answer outlives the rest
};

}  // namespace vmpower
