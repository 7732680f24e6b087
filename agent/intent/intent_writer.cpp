#include "intent_writer.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "log.h"

namespace vmpower {

IntentWriter::IntentWriter(DomainSource& source, RetryScheduler& retries, Render render,
                           std::chrono::milliseconds interval)
    : source_(source), retries_(retries), render_(std::move(render)), interval_(interval) {}

IntentWriter::~IntentWriter() = default;  // each domain's Call cancels its write

void IntentWriter::assume(std::string_view uuid, std::optional<std::string> held) {
    auto [it, added] = domains_.try_emplace(std::string(uuid));
    it->second.held = std::move(held);
}

void IntentWriter::forget(std::string_view uuid) {
    auto it = domains_.find(uuid);
    if (it == domains_.end()) return;
    domains_.erase(it);  // its Call cancels the pending write
}

void IntentWriter::changed(std::string_view uuid) {
    auto it = domains_.find(uuid);  // no uuid copy per request
    if (it == domains_.end()) it = domains_.try_emplace(std::string(uuid)).first;
    Domain& d = it->second;
    // A scheduled write will render the latest; one in flight looks again
    // when answered; one waiting for a job goes when the job ends.
    if (d.pending.pending() || d.writing.pending() || d.waiting_for_job) return;
    // At most one call per interval: the first change is written on the
    // next loop turn (not inside the guest's request), later ones wait.
    std::chrono::milliseconds delay{0};
    if (d.last_call) {
        auto since = std::chrono::duration_cast<std::chrono::milliseconds>(retries_.clock().now() -
                                                                           *d.last_call);
        delay = std::max(interval_ - since, std::chrono::milliseconds(0));
    }
    schedule(it->first, d, delay);
}

void IntentWriter::jobEnded(std::string_view uuid) {
    auto it = domains_.find(uuid);
    if (it == domains_.end() || !it->second.waiting_for_job) return;
    it->second.waiting_for_job = false;
    schedule(it->first, it->second, std::chrono::milliseconds(0));
}

void IntentWriter::schedule(const std::string& uuid, Domain& d, std::chrono::milliseconds delay) {
    // Each write takes the next free slot, kIntentWriteSpacing apart.
    const Clock::TimePoint now = retries_.clock().now();
    Clock::TimePoint at = now + delay;
    if (next_slot_ && *next_slot_ > at) at = *next_slot_;
    next_slot_ = at + kIntentWriteSpacing;
    d.pending = retries_.schedule(std::chrono::ceil<std::chrono::milliseconds>(at - now),
                                  [this, uuid] { write(uuid); });
}

void IntentWriter::write(const std::string& uuid) {
    auto it = domains_.find(uuid);
    if (it == domains_.end()) return;
    Domain& d = it->second;
    // Running is the look a job waited for (its end event, or the recheck
    // when none comes: an aborted migration sends none): from here a
    // change schedules its write again, even when there is nothing to write.
    d.waiting_for_job = false;
    const std::string element = render_(uuid);
    if (d.held && *d.held == element) return;  // libvirt holds it already
    // A write before this one ran late: keep the spacing all the same.
    const Clock::TimePoint now = retries_.clock().now();
    if (last_write_start_ && now - *last_write_start_ < kIntentWriteSpacing) {
        schedule(uuid, d,
                 std::chrono::ceil<std::chrono::milliseconds>(kIntentWriteSpacing -
                                                              (now - *last_write_start_)));
        return;
    }
    last_write_start_ = now;
    ++stats_.in_flight;
    d.writing = source_.setPowerIntent(
        uuid, element,
        [this, uuid, element, began = std::chrono::steady_clock::now()](
            Checked<MetadataWrite> result) { written(uuid, element, began, std::move(result)); });
}

void IntentWriter::written(const std::string& uuid, const std::string& element,
                           std::chrono::steady_clock::time_point began,
                           Checked<MetadataWrite> result) {
    --stats_.in_flight;
    auto it = domains_.find(uuid);
    if (it == domains_.end()) return;
    Domain& d = it->second;
    auto retry = [&](std::chrono::milliseconds delay) { schedule(uuid, d, delay); };
    if (!result) {
        ++stats_.attempts;
        d.last_call = retries_.clock().now();
        d.backoff = std::clamp(d.backoff * 2, interval_, kIntentMaxBackoff);
        if (d.last_error != result.reason()) {
            LOG(Domains).warn(
                "{}: cannot write its power intent to libvirt: {} (retrying every {} ms "
                "at most)",
                uuid, result.reason(), d.backoff.count());
            d.last_error = result.reason();
        }
        retry(d.backoff);
        return;
    }
    switch (*result) {
        case MetadataWrite::Busy:
            // No write was made: a job (a migration, a dump) runs on the domain.
            ++stats_.busy;
            LOG(Domains).debug(
                "{}: a job runs on the domain; its power intent is written when it ends", uuid);
            d.waiting_for_job = true;
            retry(kIntentJobRecheck);
            return;
        case MetadataWrite::Gone:
            ++stats_.attempts;
            domains_.erase(it);  // the registry hears of the stop from libvirt
            return;
        case MetadataWrite::Written:
            break;
    }
    ++stats_.attempts;
    ++stats_.written;
    d.last_call = retries_.clock().now();
    d.held = element;
    d.backoff = std::chrono::milliseconds(0);
    if (!d.last_error.empty()) {
        LOG(Domains).info("{}: power intent written to libvirt again", uuid);
        d.last_error.clear();
    }
    LOG(Domains).debug("{}: power intent written ({} bytes, {} us)", uuid, element.size(),
                       std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::steady_clock::now() - began)
                           .count());
    // Changed while the write was in flight: the latest goes next.
    if (render_(uuid) != element) changed(uuid);
}

}  // namespace vmpower
