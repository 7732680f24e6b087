#pragma once
// The libvirt connection: opens it, keeps it alive (keepalive + close
// callback), reconnects with backoff when libvirtd goes away, registers the
// domain events we need, turns them into typed DomainEvents
// (libvirt_events.h) and tells its listener to reconcile after every
// connect. Channels are not libvirt's (their sockets belong to QEMU): they
// stay open while libvirtd is away.
//
// Every call to libvirtd (connecting included) runs on the worker thread
// (libvirt_worker.h) and answers on the loop; the loop only receives
// libvirt's events. Members are the loop's unless marked the worker's.

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
#include "libvirt_traffic.h"
#include "libvirt_worker.h"
#include "policy_sources.h"
#include "retry_scheduler.h"

namespace vmpower {

class LibvirtHypervisor final : public DomainSource, public TrafficSource {
  public:
    LibvirtHypervisor(std::string uri, RetryScheduler& retries, DomainEventListener& listener);
    ~LibvirtHypervisor() override;
    LibvirtHypervisor(const LibvirtHypervisor&) = delete;
    LibvirtHypervisor& operator=(const LibvirtHypervisor&) = delete;

    void start();  // connects (off the loop), or keeps retrying
    bool connected() const { return connected_; }
    // For tests that call libvirt themselves (the connection is the
    // worker's; libvirt's API is thread-safe). Null while not connected.
    virConnectPtr connection() const { return connected_ ? connection_ : nullptr; }
    const std::string& uri() const { return uri_; }
    std::uint64_t connectCount() const { return connects_; }
    LibvirtWorker::Stats workerStats() const { return worker_.stats(); }

    AsyncCall listActive(Done<ActiveDomains> done) override;
    AsyncCall lookupActive(std::string_view uuid,
                           Done<std::optional<DomainSnapshot>> done) override;
    CpuSet hostCpus() const override { return host_cpus_; }
    AsyncCall lookupDefined(std::string_view name_or_uuid,
                            Done<std::optional<DomainName>> done) override;
    AsyncCall pinVcpu(std::string_view name, unsigned vcpu, const CpuSet& pcpus,
                      DoneVerdict done) override;
    AsyncCall setPowerIntent(std::string_view uuid, const std::string& element,
                             Done<MetadataWrite> done) override;
    // TrafficSource: the named domains' interface counters (libvirt_traffic.h).
    AsyncCall sample(std::vector<std::string> uuids, Done<TrafficSample> done) override;

    // libvirt's events, translated and handed to the listener. Public so the
    // .cpp's C trampolines reach them, and so tests on the test driver (which
    // emits no TUNABLE events) can inject one as libvirt would. On the loop.
    void handleLifecycle(std::string_view uuid, int event, int detail) noexcept;
    void handleTunable(std::string_view uuid, const TunableParams& params) noexcept;
    void handleDevice(std::string_view uuid, std::string_view alias, bool added) noexcept;
    void handleJobCompleted(std::string_view uuid) noexcept;
    // From any thread (libvirt calls it where it notices the loss).
    void handleClose(int reason) noexcept;

  private:
    // The loop's side of connecting.
    void connect();
    void connectedAs(virConnectPtr conn, CpuSet host_cpus);
    void lost();
    void scheduleReconnect();

    // The worker's side: every libvirt round trip.
    virConnectPtr link() const;  // throws when not connected
    std::pair<virConnectPtr, CpuSet> openLink();
    void closeLink();
    std::optional<DomainSnapshot> snapshot(virDomainPtr dom);
    ActiveDomains listOnWorker();
    std::optional<DomainSnapshot> lookupOnWorker(const std::string& uuid);
    MetadataWrite writeIntentOnWorker(const std::string& uuid, const std::string& element);
    CpuSet readHostCpus(virConnectPtr conn);

    const std::string uri_;
    RetryScheduler& retries_;
    DomainEventListener& listener_;
    bool connected_ = false;
    virConnectPtr connection_ = nullptr;  // the worker's, as last announced
    std::chrono::milliseconds backoff_{250};
    RetryScheduler::Call pending_;  // the next connect attempt
    AsyncCall connecting_;
    bool lost_while_connecting_ = false;
    std::uint64_t connects_ = 0;
    CpuSet host_cpus_;  // as of the last connect

    // The worker's: only calls running on the worker touch these.
    struct Link {
        ConnectHandle conn;
        std::vector<int> callback_ids;
        bool close_callback = false;
        CpuSet host_cpus;
        TrafficReader traffic;
    } link_;
    LibvirtWorker worker_;  // last: stopped first, while link_ exists
};

}  // namespace vmpower
