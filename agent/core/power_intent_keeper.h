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
#include "domain_source.h"
#include "host_policy_engine.h"
#include "intent_writer.h"
#include "power_control.h"
#include "power_intent.h"
#include "retry_scheduler.h"

namespace vmpower {

class Policy;
class PcpuSharing;

struct VcpuIntentRecord {
    enum class Origin { Guest, Migration };
    VcpuIntent intent;  // as written (Guest) or as read (Migration)
    Origin origin = Origin::Guest;
    std::chrono::system_clock::time_point at;  // held since / restored at
    bool applied = true;                       // Migration: this host applied it
    std::string refusal;                       // Migration: why not
    HeldRequest held;                          // what this host holds for it
};

struct DomainIntentRecord {
    std::map<unsigned, VcpuIntentRecord> vcpus;
    // The guest's or operator's host policy in force (written with the
    // intent), or the one restored from a migration.
    std::optional<IntentHostPolicy> host_policy;
    std::string host_policy_refusal;  // migration: why this host did not take it
};

class PowerIntentKeeper {
  public:
    PowerIntentKeeper(DomainSource& source, PowerControl& power, RetryScheduler& retries,
                      std::chrono::milliseconds interval = kIntentWriteInterval);

    // After an ACK: what the requester now holds is its vCPU's intent.
    // O(log domains) when nothing changed (the same level again).
    void applied(const GuestIdentity& guest, const Requester& who, const CpuSet& pcpus,
                 const FrequencyLimits& limits);
    // The domain (just synced, `snap` its XML) started: by live migration,
    // its intent is applied again here; normally, a stale one is removed.
    void started(const Domain& d, const DomainSnapshot& snap, bool migrated, const Policy& policy,
                 const PcpuSharing& sharing);
    // The vCPU's holds outside `pcpus` were released: its intent goes if
    // nothing is held any more.
    void repinned(std::string_view uuid, unsigned vcpu, const CpuSet& pcpus);
    void forget(std::string_view uuid);
    // Where a migrated host policy goes (the engine); null: none applied.
    void setHostPolicySink(HostPolicySink* sink) { sink_ = sink; }
    // The VM's host policy is now `now` (the engine's view; null: none). A
    // guest's or operator's is written with the intent, a rule's is not
    // (the destination's rule gives its own).
    void hostPolicyChanged(std::string_view uuid, const HostPolicyView* now);

    const DomainIntentRecord* find(std::string_view uuid) const;
    const IntentWriter& writer() const { return writer_; }

  private:
    void restore(const Domain& d, const PowerIntent& intent, const Policy& policy,
                 const PcpuSharing& sharing, DomainIntentRecord& record);
    std::string render(std::string_view uuid) const;

    PowerControl& power_;
    HostPolicySink* sink_ = nullptr;
    std::map<std::string, DomainIntentRecord, std::less<>> domains_;
    std::vector<std::uint32_t> allowed_;  // applied()'s scratch: no allocation per request
    IntentWriter writer_;  // last: its callbacks read domains_
};

// The time for show-vm: "2026-11-30 12:34:56 UTC".
std::string intentTimeText(std::chrono::system_clock::time_point t);

}  // namespace vmpower
