#pragma once
// The agent's picture of running domains, kept true by the hypervisor's
// typed events (domain_events.h; it knows no libvirt): which domains run,
// their channels (connected on start, closed on stop), and each vCPU's pCPU
// set.

#include <chrono>
#include <map>
#include <memory>
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

    // Lists all active domains and makes our state match (start, after every
    // reconnect). Domains that kept running keep their open channels.
    // Returns false when libvirt could not answer.
    bool reconcile();

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
    void refresh(std::string_view uuid);
    // A domain libvirt could not read now is asked again later, with
    // backoff; a successful read or its removal ends the retries.
    void refreshLater(std::string_view uuid);
    void stopRefreshing(std::string_view uuid);
    void sync(const DomainSnapshot& snap);
    void remove(std::string_view uuid, const char* why);
    void syncChannels(Domain& d, const std::vector<PowerChannel>& wanted);
    void repinVcpu(Domain& d, const VcpuRepinned& e);
    // The one place a domain's vCPU map and emulator set change (sync,
    // re-pin events, and remove() which empties both first). Keeps
    // pcpu_users_ in step with the map (O(its pCPUs)), so the per-request
    // sharing check does not walk every domain.
    void setPinning(Domain& d, VcpuMap vcpus, CpuSet emulator);
    void countPcpus(const CpuSet& set, int delta);
    // Tells PowerControl every CPU the domain's vCPUs or emulator threads
    // may run on (its footprint on shared hardware).
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
    // Started, not yet read (a lookup may fail and be retried): whether by
    // live migration. The observer hears how it arrived once it is read.
    std::map<std::string, bool, std::less<>> starting_;
    DomainObserver* observer_;
};

}  // namespace vmpower
