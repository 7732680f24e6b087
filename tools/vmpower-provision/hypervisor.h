#pragma once
// What vmpower-provision needs from libvirt, behind an interface so the
// command logic is tested against a fake. Failures throw ProvisionError with
// the matching exit status.

#include <string>

namespace vmpower::provision {

class Hypervisor {
  public:
    virtual ~Hypervisor() = default;

    virtual std::string inactiveXml(const std::string& domain) = 0;
    virtual std::string liveXml(const std::string& domain) = 0;
    virtual bool isActive(const std::string& domain) = 0;
    // Defines (replaces) the persistent configuration.
    virtual void define(const std::string& xml) = 0;
    // Hot-plug and unplug, to the running domain and its configuration.
    virtual void attachDevice(const std::string& domain, const std::string& deviceXml) = 0;
    virtual void detachDevice(const std::string& domain, const std::string& deviceXml) = 0;
    // Sets vmpower's metadata element (live and config); "" removes it.
    virtual void setProvisionMetadata(const std::string& domain, const std::string& elementXml) = 0;
};

}  // namespace vmpower::provision
