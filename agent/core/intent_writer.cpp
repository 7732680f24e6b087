#include "intent_writer.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace vmpower {

IntentWriter::IntentWriter(DomainSource& source, RetryScheduler& retries, Render render,
                           std::chrono::milliseconds interval)
    : source_(source), retries_(retries), render_(std::move(render)), interval_(interval) {}

IntentWriter::~IntentWriter() {
    for (const auto& [uuid, d] : domains_) retries_.cancel(d.pending);
}

void IntentWriter::assume(std::string_view uuid, std::optional<std::string> held) {
    auto [it, added] = domains_.try_emplace(std::string(uuid));
    it->second.held = std::move(held);
}

void IntentWriter::forget(std::string_view uuid) {
    auto it = domains_.find(uuid);
    if (it == domains_.end()) return;
    retries_.cancel(it->second.pending);
    domains_.erase(it);
}

void IntentWriter::changed(std::string_view uuid) {
    auto [it, added] = domains_.try_emplace(std::string(uuid));
    Domain& d = it->second;
    if (d.pending != 0) return;  // that write will render the latest
    // At most one call per interval: the first change is written on the
    // next loop turn (not inside the guest's request), later ones wait.
    std::chrono::milliseconds delay{0};
    if (d.last_call) {
        auto since = std::chrono::duration_cast<std::chrono::milliseconds>(
            retries_.clock().now() - *d.last_call);
        delay = std::max(interval_ - since, std::chrono::milliseconds(0));
    }
    schedule(it->first, d, delay);
}

void IntentWriter::schedule(const std::string& uuid, Domain& d, std::chrono::milliseconds delay) {
    d.pending = retries_.schedule(delay, [this, uuid] { write(uuid); });
}

void IntentWriter::write(const std::string& uuid) {
    auto it = domains_.find(uuid);
    if (it == domains_.end()) return;
    Domain& d = it->second;
    d.pending = 0;
    const std::string element = render_(uuid);
    if (d.held && *d.held == element) return;  // libvirt holds it already
    auto retry = [&](std::chrono::milliseconds delay) { schedule(uuid, d, delay); };
    MetadataWrite result;
    try {
        result = source_.setPowerIntent(uuid, element);
    } catch (const std::exception& e) {
        ++stats_.attempts;
        d.last_call = retries_.clock().now();
        d.backoff = std::clamp(d.backoff * 2, interval_, kIntentMaxBackoff);
        if (d.last_error != e.what()) {
            spdlog::warn("{}: cannot write its power intent to libvirt: {} (retrying every {} ms "
                         "at most)",
                         uuid, e.what(), d.backoff.count());
            d.last_error = e.what();
        }
        retry(d.backoff);
        return;
    }
    switch (result) {
        case MetadataWrite::Busy:
            // No call was made: a job (a migration) runs on the domain.
            ++stats_.busy;
            spdlog::debug("{}: a job runs on the domain; its power intent is written later", uuid);
            retry(kIntentBusyRetry);
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
        spdlog::info("{}: power intent written to libvirt again", uuid);
        d.last_error.clear();
    }
    spdlog::debug("{}: power intent written ({} bytes)", uuid, element.size());
}

}  // namespace vmpower
