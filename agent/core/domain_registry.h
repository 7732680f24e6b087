#pragma once
// The agent's picture of running domains, kept true by the hypervisor's
// typed events (domain_events.h; it knows no libvirt): which domains run,
// their channels (connected on start, closed on stop), and each vCPU's pCPU
// set.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain.h"
#include "domain_events.h"
#include "domain_observer.h"
#include "domain_source.h"
#include "power_control.h"
#include "request_handler.h"

namespace vmpower {

class DomainRegistry final : public PcpuSharing {
  public:
    // `observer` (may be null) hears of every domain that appears, moves or
    // goes; it must outlive the registry.
    DomainRegistry(ChannelEnv& env, DomainSource& source, PowerControl& power,
                   DomainObserver* observer = nullptr);
    ~DomainRegistry() override;

    // What the owner hears after the registry acted on the hypervisor's
    // answers (they come later than the event or connect that asked).
    struct Hooks {
        // A reconcile's answer was applied (false: libvirt could not answer);
        // `settled` is not called for the domains it read.
        std::function<void(bool ok)> reconciled;
        // Something about this domain may have changed: it was read, re-pinned
        // or removed (find() says which).
        std::function<void(std::string_view uuid)> settled;
    };
    void setHooks(Hooks hooks) { hooks_ = std::move(hooks); }

    // Lists all active domains and makes our state match (start, after every
    // reconnect), when the answer comes. Domains that kept running keep
    // their open channels.
    void reconcile();
    bool reconciling() const { return listing_.pending(); }
    // Waiting for any answer of the hypervisor (a listing or a lookup).
    bool asking() const { return listing_.pending() || !lookups_.empty(); }

    // The event entry point (from LibvirtHypervisor via the Agent, or made
    // up by tests). Never throws.
    void onEvent(std::string_view uuid, const DomainEvent& event) noexcept;
    void onPolicyChanged();  // record formats may differ now

    // The operator's switch for one channel (set-channel-status); false:
    // no such domain or channel.
    bool setChannelEnabled(std::string_view uuid, unsigned index, bool enabled);

    const std::map<std::string, std::unique_ptr<Domain>, std::less<>>& domains() const {
        return domains_;
    }
    const Domain* find(std::string_view uuid) const;
    void removeAll();

    bool sharedWithOtherDomain(std::string_view uuid, const CpuSet& pcpus) const override;

  private:
    void applyActive(Checked<ActiveDomains> answer);
    void applyLookup(const std::string& uuid, Checked<std::optional<DomainSnapshot>> answer);
    void settled(std::string_view uuid);
    // Asks the hypervisor what is true now; the latest question per domain
    // wins (an earlier one's answer is dropped).
    void refresh(std::string_view uuid);
    // A domain libvirt could not read now is asked again later, with
    // backoff; a successful read or its removal ends the retries.
    void refreshLater(std::string_view uuid);
    void stopRefreshing(std::string_view uuid);
    void sync(const DomainSnapshot& snap);
    // A running domain whose XML cannot be parsed: registered (or kept),
    // without new channels, as a stakeholder of every host CPU.
    void syncUnreadable(const DomainSnapshot& snap, const std::string& why);
    void remove(std::string_view uuid, const char* why);
    void syncChannels(Domain& d, const std::vector<PowerChannel>& wanted);
    void repinVcpu(Domain& d, const VcpuRepinned& e);
    // The one place a domain's vCPU map, emulator and IOThread sets change
    // (sync, re-pin events, and remove() which empties them first). Keeps
    // pcpu_users_ in step with the map (O(its pCPUs)), so the per-request
    // sharing check does not walk every domain.
    void setPinning(Domain& d, VcpuMap vcpus, CpuSet emulator, CpuSet iothreads);
    void countPcpus(const CpuSet& set, int delta);
    // Tells PowerControl every CPU the domain's vCPUs, emulator threads or
    // IOThreads may run on (its footprint on shared hardware); every host
    // CPU while its XML is unreadable.
    void reportFootprint(const Domain& d);

    ChannelEnv& env_;
    DomainSource& source_;
    PowerControl& power_;
    std::map<std::string, std::unique_ptr<Domain>, std::less<>> domains_;
    std::vector<unsigned> pcpu_users_;  // how many domains may run on each pCPU
    struct PendingRefresh {
        RetryScheduler::Call retry;
        std::chrono::milliseconds backoff;
    };
    std::map<std::string, PendingRefresh, std::less<>> refreshing_;
    std::map<std::string, AsyncCall, std::less<>> lookups_;  // one in flight per domain
    AsyncCall listing_;
    // Domains an event concerned while a listing was in flight: the listing
    // may predate the event, so its answer does not decide for them (the
    // event's own lookup, answered after it, does).
    std::set<std::string, std::less<>> touched_while_listing_;
    Hooks hooks_;
    // Started, not yet read (a lookup may fail and be retried): whether by
    // live migration. The observer hears how it arrived once it is read.
    std::map<std::string, bool, std::less<>> starting_;
    DomainObserver* observer_;
};

}  // namespace vmpower
