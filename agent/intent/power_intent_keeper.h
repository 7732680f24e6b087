#pragma once
// The one owner of each running domain's power intent on this host: per
// vCPU the level it holds (as a position in the range it may use) and its
// turbo wish, the VM's guest- or operator-set host policy, and where each
// came from — held since a guest's request, restored from a live migration,
// or restored after an agent restart. Fed by the request handler's ACKs
// (HoldObserver), the host-policy engine's changes (hostPolicyChanged, the
// operator's set-policy among them) and the registry's reports
// (DomainObserver). Carried by two carriers (IntentCarrier): the domain's
// live metadata (IntentWriter, follows a live migration) and the state file
// (IntentStateFile, survives a vmpowerd restart). Applied again by one path
// (restore: this host's rule and the stakeholder rule, as a guest's request)
// when a domain arrives by live migration (from its metadata) or is found
// running at the agent's start (from the state file when it is the same
// run, else from its live metadata). A domain that starts normally carries
// no intent: one in its XML is from an earlier run and is removed.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain.h"
#include "domain_observer.h"
#include "domain_run.h"
#include "domain_source.h"
#include "host_policy_engine.h"
#include "intent_record.h"
#include "intent_state_file.h"
#include "intent_writer.h"
#include "power_control.h"
#include "power_intent.h"
#include "retry_scheduler.h"
#include "string_map.h"

namespace vmpower {

class AccessRules;
class PcpuSharing;

class PowerIntentKeeper final : public DomainObserver, public HoldObserver {
  public:
    // Which run of the domain this is (agent/domain/domain_run.h).
    using RunOf = std::function<DomainRun(const Domain&)>;

    PowerIntentKeeper(DomainSource& source, PowerControl& power, RetryScheduler& retries,
                      std::chrono::milliseconds interval = kIntentWriteInterval);
    ~PowerIntentKeeper();

    // The state file in `state_dir` carries the intents too; what the last
    // run kept is read now and restored as each domain is found running.
    // `run_of`: null reads the domain id alone (no QEMU start time).
    void keepInStateDir(const std::filesystem::path& state_dir, std::string boot_id,
                        RunOf run_of = nullptr,
                        std::chrono::milliseconds interval = kIntentFileInterval);

    // After an ACK: what the requester now holds is its vCPU's intent.
    // O(log domains) when nothing changed (the same level again).
    void applied(const GuestIdentity& guest, const Requester& who, const CpuSet& pcpus,
                 const FrequencyLimits& limits);
    // HoldObserver: applied(), logged if it fails.
    void onApplied(const GuestIdentity& guest, const Requester& who, const CpuSet& pcpus,
                   const FrequencyLimits& limits) noexcept override;
    // DomainObserver. Arrived by live migration: its intent is applied again
    // here; started normally: a stale one is removed; found running at the
    // agent's start: the last run's intent is applied again; found at a
    // later reconnect: what libvirt holds stays as it is.
    void domainAppeared(const Domain& d, const DomainSnapshot& snap, DomainArrival how,
                        const AccessRules& policy, const PcpuSharing& sharing) override;
    // The vCPU's holds outside `pcpus` were released: its intent goes if
    // nothing is held any more.
    void vcpuRepinned(std::string_view uuid, unsigned vcpu, const CpuSet& pcpus) override;
    void domainGone(std::string_view uuid) override;
    // Where a restored host policy goes (the engine); null: none applied.
    void setHostPolicySink(HostPolicySink* sink) { sink_ = sink; }
    // The VM's host policy is now `now` (the engine's view; null: none). A
    // guest's or operator's is kept, a rule's is not (the config gives it).
    void hostPolicyChanged(std::string_view uuid, const HostPolicyView* now);
    // The first reconcile since start is done: kept intents no running
    // domain claimed are dropped (their domains are gone).
    void settled();
    // The operator's release-all: every VM's vCPU holds and guest or
    // operator host policy are released and its intent forgotten (metadata
    // and state file). Answers how many VMs held something.
    std::size_t releaseAll();
    // The agent stops (SIGTERM): the state file keeps what is held now, for
    // the next start; the domains let go of after this keep their entries.
    void stopping();

    const DomainIntentRecord* find(std::string_view uuid) const;
    const IntentWriter& writer() const { return writer_; }
    const IntentStateFile* stateFile() const { return file_.get(); }
    // A job on the domain may have ended: an intent write waiting for it goes.
    void jobEnded(std::string_view uuid) { writer_.jobEnded(uuid); }

  private:
    struct Kept {
        DomainIntentRecord record;
        std::string name;
        DomainRun run;
        std::chrono::system_clock::time_point since{};  // the last change
    };
    // Where a restored intent came from, for its record and the log.
    struct Source {
        VcpuIntentRecord::Origin origin;
        const char* from;  // "from migration"
    };
    void foundRunning(const Domain& d, const DomainSnapshot& snap, const AccessRules& policy,
                      const PcpuSharing& sharing, Kept& kept);
    void startedNormally(const Domain& d, const DomainSnapshot& snap);
    void migratedIn(const Domain& d, const DomainSnapshot& snap, const AccessRules& policy,
                    const PcpuSharing& sharing, DomainIntentRecord& record);
    void restore(const Domain& d, const PowerIntent& intent, const AccessRules& policy,
                 const PcpuSharing& sharing, DomainIntentRecord& record, Source source);
    void restoreHostPolicy(const Domain& d, const IntentHostPolicy& p, DomainIntentRecord& record,
                           Source source);
    // The metadata holds `reading` now: assumed when it is what the record
    // renders, else written.
    void followMetadata(std::string_view uuid, const PowerIntentReading& reading);
    void changed(std::string_view uuid);
    void changed(Kept* kept, std::string_view uuid);  // kept: uuid's, when known
    std::string render(std::string_view uuid) const;
    StoredIntents stored() const;

    PowerControl& power_;
    HostPolicySink* sink_ = nullptr;
    RunOf run_of_;
    StringMap<Kept> domains_;
    StoredIntents last_run_;  // from the state file, until each domain is found
    bool settled_ = false;    // the first reconcile since start is done
    // The state file could not say what every domain held (set aside, or
    // an upgrade): a domain without an entry is restored from its metadata.
    bool from_metadata_ = false;
    std::vector<std::uint32_t> allowed_;     // applied()'s scratch: no allocation per request
    IntentWriter writer_;                    // its callbacks read domains_
    std::unique_ptr<IntentStateFile> file_;  // last: destroyed first, writing what is pending
};

}  // namespace vmpower
