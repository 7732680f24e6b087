#pragma once
// The agent's picture of running domains, kept true by libvirt events:
// which domains run, their channels (connected on start, closed on stop),
// and each vCPU's pCPU set.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain.h"
#include "domain_source.h"
#include "power_control.h"
#include "request_handler.h"

namespace vmpower {

class DomainRegistry final : public PcpuSharing {
  public:
    DomainRegistry(ChannelEnv& env, DomainSource& source, PowerControl& power);
    ~DomainRegistry() override;

    // Lists all active domains and makes our state match (start, after every
    // reconnect). Domains that kept running keep their open channels.
    // Returns false when libvirt could not answer.
    bool reconcile();

    // Event entry points (from LibvirtHypervisor, or injected by tests).
    // They never throw.
    void onLifecycle(std::string_view uuid, int event, int detail) noexcept;
    void onTunable(std::string_view uuid,
                   const std::vector<std::pair<std::string, std::string>>& string_params) noexcept;
    void onDeviceChanged(std::string_view uuid, std::string_view alias) noexcept;
    void onPolicyChanged();  // record formats may differ now

    const std::map<std::string, std::unique_ptr<Domain>, std::less<>>& domains() const {
        return domains_;
    }
    const Domain* find(std::string_view uuid) const;
    void removeAll();

    bool sharedWithOtherDomain(std::string_view uuid, const CpuSet& pcpus) const override;

  private:
    void refresh(std::string_view uuid);
    void sync(const DomainSnapshot& snap);
    void remove(std::string_view uuid, const char* why);
    void syncChannels(Domain& d, const std::vector<PowerChannel>& wanted);
    RecordFormat formatFor(const Domain& d) const;
    // Keeps pcpu_users_ in step with a domain's map (O(its pCPUs)), so the
    // per-request sharing check does not walk every domain.
    void setVcpuMap(Domain& d, VcpuMap map);
    void countPcpus(const CpuSet& set, int delta);
    // Tells PowerControl every CPU the domain's vCPUs or emulator threads
    // may run on (its footprint on shared hardware).
    void reportFootprint(Domain& d);

    ChannelEnv& env_;
    DomainSource& source_;
    PowerControl& power_;
    std::map<std::string, std::unique_ptr<Domain>, std::less<>> domains_;
    std::vector<unsigned> pcpu_users_;  // how many domains may run on each pCPU
};

}  // namespace vmpower
