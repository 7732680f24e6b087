// HostPolicyEngine's scheduling: what a timer tick samples (TRAFFIC through
// its TrafficSampler, off the loop; BRANCH_RATIO's counters), which policies
// it wakes, and the one timer for the next hour change or sample.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

#include "host_policy_engine.h"
#include "log.h"

namespace vmpower {

void HostPolicyEngine::sampleTraffic() {
    std::vector<std::string> uuids;
    for (const auto& [uuid, a] : active_) {
        if (a.running->needs().traffic) uuids.push_back(uuid);
    }
    traffic_.start(std::move(uuids),
                   [this](const std::vector<std::string>& asked, const TrafficSample* sample) {
                       trafficAnswered(asked, sample);
                   });
}

// On the loop, some time after sampleTraffic: a holder gone or changed to a
// policy that measures no traffic meanwhile is skipped. Never throws.
void HostPolicyEngine::trafficAnswered(const std::vector<std::string>& asked,
                                       const TrafficSample* sample) {
    try {
        const auto now = edges_.clock->now();
        const PolicyWakeups tick{.traffic = true};
        for (const std::string& uuid : asked) {
            auto it = active_.find(uuid);
            if (sample == nullptr || it == active_.end() || !it->second.running->needs().traffic)
                continue;
            auto got = sample->find(uuid);
            it->second.running->takeTraffic(got != sample->end() ? &got->second : nullptr, now);
            if (!it->second.running->dueAt(tick)) continue;
            evaluate(it->first, it->second, false);
            if (find_(uuid) == nullptr) drop(it, "forgotten: the domain is gone");
        }
    } catch (const std::exception& e) {
        LOG(HostPolicy).error("host policies: {}", e.what());
    } catch (...) {
        LOG(HostPolicy).error("host policies: unknown error");
    }
    rearm();
}

void HostPolicyEngine::sampleBranches() {
    for (auto& [uuid, a] : active_) {
        if (a.running->needs().branches) a.running->readBranches();
    }
}

PolicyWakeups HostPolicyEngine::sample() {
    const auto now = edges_.clock->now();
    PolicyWakeups tick;
    // Traffic's tick is its answer's (trafficAnswered).
    if (traffic_.due(now)) sampleTraffic();
    if (now >= next_branch_) {
        sampleBranches();
        next_branch_ = now + settings_.branch_interval;
        tick.branches = true;
    }
    const int hour = edges_.wall ? localHour(edges_.wall->now()) : -1;
    tick.hour = hour != hour_;
    hour_ = hour;
    return tick;
}

void HostPolicyEngine::onTimer() {
    try {
        const PolicyWakeups tick = sample();
        for (auto it = active_.begin(); it != active_.end();) {
            auto next = std::next(it);
            if (it->second.running->dueAt(tick)) {
                evaluate(it->first, it->second, false);
                if (find_(it->first) == nullptr) drop(it, "forgotten: the domain is gone");
            }
            it = next;
        }
    } catch (const std::exception& e) {
        LOG(HostPolicy).error("host policies: {}", e.what());
    } catch (...) {
        LOG(HostPolicy).error("host policies: unknown error");
    }
    rearm();
}

void HostPolicyEngine::rearm() {
    using std::chrono::milliseconds;
    std::optional<milliseconds> wait;
    auto sooner = [&](milliseconds d) {
        if (d < milliseconds(0)) d = milliseconds(0);
        if (!wait || d < *wait) wait = d;
    };
    const auto now = edges_.clock ? edges_.clock->now() : Clock::TimePoint{};
    for (const auto& [uuid, a] : active_) {
        const PolicyWakeups needs = a.running->needs();
        if (needs.hour && edges_.wall != nullptr) {
            hour_ = hour_ < 0 ? localHour(edges_.wall->now()) : hour_;
            // A little past the change, so the new hour is what it reads.
            sooner(untilNextHour(edges_.wall->now()) + milliseconds(5));
        }
        // None while a sample is in flight: its answer re-arms.
        const auto traffic_at = needs.traffic ? traffic_.dueAt() : std::nullopt;
        if (traffic_at) sooner(std::chrono::duration_cast<milliseconds>(*traffic_at - now));
        if (needs.branches) sooner(std::chrono::duration_cast<milliseconds>(next_branch_ - now));
    }
    arm_(wait);
}

}  // namespace vmpower
