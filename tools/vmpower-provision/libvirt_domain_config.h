#pragma once
// The real Hypervisor of vmpower-provision: one libvirt connection that reads
// and defines a domain's configuration and hot-plugs its devices. (vmpowerd's
// LibvirtHypervisor, in agent/core, watches running domains instead.)

#include <string>

#include "hypervisor.h"
#include "libvirt_handles.h"

namespace vmpower::provision {

class LibvirtDomainConfig : public Hypervisor {
  public:
    // Throws ProvisionError(NoConnection or PermissionDenied).
    explicit LibvirtDomainConfig(const std::string& uri);

    std::string inactiveXml(const std::string& domain) override;
    std::string liveXml(const std::string& domain) override;
    bool isActive(const std::string& domain) override;
    void define(const std::string& xml) override;
    void attachDevice(const std::string& domain, const std::string& deviceXml) override;
    void detachDevice(const std::string& domain, const std::string& deviceXml) override;
    void setProvisionMetadata(const std::string& domain, const std::string& elementXml) override;

  private:
    DomainHandle lookup(const std::string& domain);
    std::string xml(const std::string& domain, unsigned flags);
    ConnectHandle conn_;
};

}  // namespace vmpower::provision
