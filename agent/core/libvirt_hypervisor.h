#pragma once
// The libvirt connection: opens it, keeps it alive (keepalive + close
// callback), reconnects with backoff when libvirtd goes away, re-registers
// the domain events we need, and tells its listener to reconcile. Channels
// are not libvirt's (their sockets belong to QEMU): they stay open while
// libvirtd is away.

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "domain_source.h"
#include "libvirt_handles.h"
#include "retry_scheduler.h"

namespace vmpower {

class HypervisorListener {
  public:
    virtual void onConnected() = 0;  // after every (re)connect: reconcile
    virtual void onLifecycle(std::string_view uuid, int event, int detail) = 0;
    virtual void onTunable(std::string_view uuid,
                           const std::vector<std::pair<std::string, std::string>>& params) = 0;
    virtual void onDeviceChanged(std::string_view uuid, std::string_view alias) = 0;

  protected:
    ~HypervisorListener() = default;
};

class LibvirtHypervisor final : public DomainSource {
  public:
    LibvirtHypervisor(std::string uri, RetryScheduler& retries, HypervisorListener& listener);
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

    // C callbacks (public so the .cpp's trampolines can reach them).
    void handleClose(int reason) noexcept;
    HypervisorListener& listener() { return listener_; }

  private:
    void connect();
    void disconnect();
    void scheduleReconnect();
    std::optional<DomainSnapshot> snapshot(virDomainPtr dom);
    CpuSet readHostCpus();

    std::string uri_;
    RetryScheduler& retries_;
    HypervisorListener& listener_;
    ConnectHandle conn_;
    std::vector<int> callback_ids_;
    bool close_callback_ = false;
    std::chrono::milliseconds backoff_{250};
    std::optional<RetryScheduler::Id> pending_;
    std::uint64_t connects_ = 0;
    CpuSet host_cpus_;  // cached per connection
};

}  // namespace vmpower
