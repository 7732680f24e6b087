#pragma once
// The libvirt connection: opens it, keeps it alive (keepalive + close
// callback), reconnects with backoff when libvirtd goes away, re-registers
// the domain events we need, turns them into typed DomainEvents
// (libvirt_events.h) and tells its listener to reconcile after every
// connect. Channels are not libvirt's (their sockets belong to QEMU): they
// stay open while libvirtd is away.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "domain_events.h"
#include "domain_source.h"
#include "libvirt_events.h"
#include "libvirt_handles.h"
#include "policy_sources.h"
#include "retry_scheduler.h"

namespace vmpower {

class LibvirtHypervisor final : public DomainSource, public TrafficSource {
  public:
    LibvirtHypervisor(std::string uri, RetryScheduler& retries, DomainEventListener& listener);
    ~LibvirtHypervisor() override;
    LibvirtHypervisor(const LibvirtHypervisor&) = delete;
    LibvirtHypervisor& operator=(const LibvirtHypervisor&) = delete;

    void start();  // connects now, or keeps retrying
    bool connected() const { return conn_ != nullptr; }
    virConnectPtr connection() const { return conn_.get(); }
    const std::string& uri() const { return uri_; }
    std::uint64_t connectCount() const { return connects_; }

    std::vector<DomainSnapshot> listActive() override;
    std::optional<DomainSnapshot> lookupActive(std::string_view uuid) override;
    CpuSet hostCpus() override;
    std::optional<DomainName> lookupDefined(std::string_view name_or_uuid) override;
    void pinVcpu(std::string_view name, unsigned vcpu, const CpuSet& pcpus) override;
    MetadataWrite setPowerIntent(std::string_view uuid, const std::string& element) override;
    // TrafficSource (libvirt_traffic.cpp): one virConnectGetAllDomainStats
    // (VIR_DOMAIN_STATS_INTERFACE) call per sample.
    TrafficSample sample(const std::vector<std::string>& uuids) override;

    // libvirt's events, translated and handed to the listener. Public so the
    // .cpp's C trampolines reach them, and so tests on the test driver (which
    // emits no TUNABLE events) can inject one as libvirt would.
    void handleLifecycle(std::string_view uuid, int event, int detail) noexcept;
    void handleTunable(std::string_view uuid, const TunableParams& params) noexcept;
    void handleDevice(std::string_view uuid, std::string_view alias, bool added) noexcept;
    void handleClose(int reason) noexcept;

  private:
    void connect();
    void disconnect();
    void scheduleReconnect();
    std::optional<DomainSnapshot> snapshot(virDomainPtr dom);
    CpuSet readHostCpus();

    std::string uri_;
    RetryScheduler& retries_;
    DomainEventListener& listener_;
    ConnectHandle conn_;
    std::vector<int> callback_ids_;
    bool close_callback_ = false;
    std::chrono::milliseconds backoff_{250};
    RetryScheduler::Call pending_;
    std::uint64_t connects_ = 0;
    CpuSet host_cpus_;  // cached per connection
    // Host device -> MAC per domain uuid, from the live XML; read again only
    // when the stats name a device it does not know.
    std::map<std::string, std::map<std::string, std::uint64_t>, std::less<>> macs_;
};

}  // namespace vmpower
