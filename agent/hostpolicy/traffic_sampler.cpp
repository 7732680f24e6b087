#include "traffic_sampler.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "log.h"

namespace vmpower {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

TrafficSampler::TrafficSampler(TrafficSource* source, const Clock* clock, milliseconds interval,
                               milliseconds cap)
    : source_(source), clock_(clock), base_(interval), cap_(std::max(cap, interval)) {
    stats_.interval = base_;
}

std::optional<Clock::TimePoint> TrafficSampler::dueAt() const {
    if (source_ == nullptr || call_.pending()) return std::nullopt;
    return next_;
}

void TrafficSampler::start(std::vector<std::string> uuids, Answered answered) {
    if (source_ == nullptr || call_.pending() || uuids.empty()) return;
    const Clock::TimePoint started = clock_->now();
    // The answer runs on the loop; `call_` is this sampler's, so `this` is
    // alive whenever it runs.
    call_ = source_->sample(
        uuids, [this, asked = uuids, started, answered = std::move(answered)](
                   Checked<TrafficSample> got) { finish(asked, started, got, answered); });
}

void TrafficSampler::finish(const std::vector<std::string>& asked, Clock::TimePoint started,
                            const Checked<TrafficSample>& got, const Answered& answered) {
    const Clock::TimePoint now = clock_->now();
    const milliseconds took = duration_cast<milliseconds>(now - started);
    stats_.last_duration = took;
    // A slow source is asked at most half the time: the next sample starts
    // twice its duration after this one did (up to the cap), and never
    // before this answer (never two at a time).
    stats_.interval = std::max(base_, std::min(2 * took, cap_));
    next_ = std::max(started + stats_.interval, now);
    if (got) {
        if (!stats_.last_error.empty())
            LOG(HostPolicy).info("host policies: interface statistics available again");
        stats_.last_error.clear();
        ++stats_.samples;
        answered(asked, &*got);
        return;
    }
    ++stats_.failures;
    // Once per new reason, not every sample.
    if (got.reason() != stats_.last_error)
        LOG(HostPolicy).warn("host policies: interface statistics unavailable: {}", got.reason());
    stats_.last_error = got.reason();
    answered(asked, nullptr);
}

TrafficSamplingView TrafficSampler::view() const {
    TrafficSamplingView v = stats_;
    v.in_flight = call_.pending();
    return v;
}

}  // namespace vmpower
