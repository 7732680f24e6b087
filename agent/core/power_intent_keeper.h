#pragma once
// Each running domain's power intent on this host: per vCPU the level it
// holds (as a position in the range it may use) and its turbo wish, and
// where that came from — held since a guest's request, or restored from a
// live migration. Kept from what the PowerControl holds after each ACK
// (HoldObserver), written to the domain's live metadata by the IntentWriter
// (coalesced), read back on the destination of a live migration and applied
// again under this host's policy. A domain that starts normally carries no
// intent: one in its XML is from an earlier run and is removed.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain.h"
#include "domain_observer.h"
#include "domain_source.h"
#include "host_policy_engine.h"
#include "intent_record.h"
#include "intent_writer.h"
#include "power_control.h"
#include "power_intent.h"
#include "retry_scheduler.h"

namespace vmpower {

class AccessRules;
class PcpuSharing;

// Hears the registry (DomainObserver: a domain appeared, moved, went) and
// the request handler (HoldObserver: an ACK); the registry itself knows no
// intent.
class PowerIntentKeeper final : public DomainObserver, public HoldObserver {
  public:
    PowerIntentKeeper(DomainSource& source, PowerControl& power, RetryScheduler& retries,
                      std::chrono::milliseconds interval = kIntentWriteInterval);

    // After an ACK: what the requester now holds is its vCPU's intent.
    // O(log domains) when nothing changed (the same level again).
    void applied(const GuestIdentity& guest, const Requester& who, const CpuSet& pcpus,
                 const FrequencyLimits& limits);
    // HoldObserver: applied(), logged if it fails.
    void onApplied(const GuestIdentity& guest, const Requester& who, const CpuSet& pcpus,
                   const FrequencyLimits& limits) noexcept override;
    // DomainObserver. Arrived by live migration: its intent is applied again
    // here; started normally: a stale one is removed; found running (the
    // agent (re)connected): what libvirt holds stays as it is.
    void domainAppeared(const Domain& d, const DomainSnapshot& snap, DomainArrival how,
                        const AccessRules& policy, const PcpuSharing& sharing) override;
    // The vCPU's holds outside `pcpus` were released: its intent goes if
    // nothing is held any more.
    void vcpuRepinned(std::string_view uuid, unsigned vcpu, const CpuSet& pcpus) override;
    void domainGone(std::string_view uuid) override;
    // Where a migrated host policy goes (the engine); null: none applied.
    void setHostPolicySink(HostPolicySink* sink) { sink_ = sink; }
    // The VM's host policy is now `now` (the engine's view; null: none). A
    // guest's or operator's is written with the intent, a rule's is not
    // (the destination's rule gives its own).
    void hostPolicyChanged(std::string_view uuid, const HostPolicyView* now);

    const DomainIntentRecord* find(std::string_view uuid) const;
    const IntentWriter& writer() const { return writer_; }
    // A job on the domain may have ended: an intent write waiting for it goes.
    void jobEnded(std::string_view uuid) { writer_.jobEnded(uuid); }

  private:
    void restore(const Domain& d, const PowerIntent& intent, const AccessRules& policy,
                 const PcpuSharing& sharing, DomainIntentRecord& record);
    std::string render(std::string_view uuid) const;

    PowerControl& power_;
    HostPolicySink* sink_ = nullptr;
    std::map<std::string, DomainIntentRecord, std::less<>> domains_;
    std::vector<std::uint32_t> allowed_;  // applied()'s scratch: no allocation per request
    IntentWriter writer_;  // last: its callbacks read domains_
};

}  // namespace vmpower
