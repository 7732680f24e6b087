#pragma once
// Writes each domain's power intent into its live metadata
// (DomainSource::setPowerIntent), coalesced: a guest stepping up and down
// thousands of times a second becomes at most one libvirt call per domain
// per kIntentWriteInterval, always of the latest intent (rendered when the
// write happens), and none when libvirt already holds that text. Uses the
// agent's one RetryScheduler (no timer per domain, no polling); the write
// itself runs off the loop (DomainSource answers later) and at most one per
// domain is in flight. Failures are logged (once per new error) and retried
// with backoff; a domain busy with a job (a migration, a dump) is written
// when the job ends (jobEnded(), from libvirt's event), or checked again
// after kIntentJobRecheck; nothing thrown leaves the scheduler's callback.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "domain_source.h"
#include "intent_carrier.h"
#include "intent_record.h"
#include "retry_scheduler.h"
#include "string_map.h"

namespace vmpower {

// Why 250 ms: a metadata write costs libvirtd a job, a rewrite of the
// domain's status XML file and an event to every client, and costs the
// libvirt worker the round trip (1.4-190 ms, median 10-16 ms, on a loaded
// shared test machine: docs/operations.md), during which other libvirt
// calls wait; four a second per busy domain is little, and a level
// changed just before an operator starts a migration is in the metadata a
// quarter of a second later.
inline constexpr std::chrono::milliseconds kIntentWriteInterval{250};
// And at most one write per 50 ms over all domains: with many domains
// changing at once their writes queue up (each later, still the latest)
// instead of the worker spending most of its time inside libvirt calls.
inline constexpr std::chrono::milliseconds kIntentWriteSpacing{50};
// A domain busy with a job: written at the job's end event; checked again
// after this in case no event comes (not every job ends with one; asking
// whether a job runs never waits for the job's lock).
inline constexpr std::chrono::milliseconds kIntentJobRecheck{5000};
inline constexpr std::chrono::milliseconds kIntentMaxBackoff{10'000};

class IntentWriter final : public IntentCarrier {
  public:
    // The element the domain's metadata should hold now ("" = none).
    using Render = std::function<std::string(std::string_view uuid)>;

    IntentWriter(DomainSource& source, RetryScheduler& retries, Render render,
                 std::chrono::milliseconds interval = kIntentWriteInterval);
    ~IntentWriter();
    IntentWriter(const IntentWriter&) = delete;
    IntentWriter& operator=(const IntentWriter&) = delete;

    // The intent may now differ from what libvirt holds: write it within
    // the interval. O(log domains); at most one scheduled write per domain.
    void changed(std::string_view uuid) override;
    // What libvirt holds now (read from the domain's XML); nullopt: unknown,
    // so the next changed() writes whatever it renders.
    void assume(std::string_view uuid, std::optional<std::string> held);
    void forget(std::string_view uuid) override;  // the domain is gone: nothing more to write
    // A job on the domain may have ended (its end event, a resume): a write
    // put off for it goes now.
    void jobEnded(std::string_view uuid);

    using Stats = IntentWriteStats;  // what the metrics show
    const Stats& stats() const { return stats_; }
    RetryScheduler& retries() const { return retries_; }

  private:
    struct Domain {
        std::optional<std::string> held;  // what libvirt holds, if known
        RetryScheduler::Call pending;
        AsyncCall writing;  // the write in flight
        bool waiting_for_job = false;
        std::optional<Clock::TimePoint> last_call;
        std::chrono::milliseconds backoff{0};
        std::string last_error;
    };
    void schedule(const std::string& uuid, Domain& d, std::chrono::milliseconds delay);
    void write(const std::string& uuid);
    void written(const std::string& uuid, const std::string& element,
                 std::chrono::steady_clock::time_point began, Checked<MetadataWrite> result);

    DomainSource& source_;
    RetryScheduler& retries_;
    Render render_;
    std::chrono::milliseconds interval_;
    StringMap<Domain> domains_;
    std::optional<Clock::TimePoint> next_slot_;  // the earliest the next write may run
    std::optional<Clock::TimePoint> last_write_start_;
    Stats stats_;
};

}  // namespace vmpower
