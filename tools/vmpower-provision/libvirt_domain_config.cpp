#include "libvirt_domain_config.h"

#include <string_view>

#include "domain_editor.h"
#include "exit_status.h"

namespace vmpower::provision {
namespace {

// libvirt's refusal (its last error, not an errno: SystemError does not
// apply), with the exit status its error code means. Read the thread's last
// error right after the failing call: any later libvirt call (virDomainFree
// included) resets it.
[[noreturn]] void throwLibvirtError(const std::string& what,
                                    ExitStatus fallback = ExitStatus::LibvirtRefused) {
    const int code = lastLibvirtErrorCode();
    const std::string message = what + ": " + lastLibvirtError();
    ExitStatus status = fallback;
    if (code != VIR_ERR_OK) {
        switch (code) {
            case VIR_ERR_NO_DOMAIN:
                status = ExitStatus::NoSuchDomain;
                break;
            case VIR_ERR_AUTH_FAILED:
            case VIR_ERR_AUTH_CANCELLED:
            case VIR_ERR_AUTH_UNAVAILABLE:
            case VIR_ERR_ACCESS_DENIED:
            case VIR_ERR_OPERATION_DENIED:
                status = ExitStatus::PermissionDenied;
                break;
            default:
                break;
        }
    }
    throw ProvisionError(status, message);
}

}  // namespace

LibvirtDomainConfig::LibvirtDomainConfig(const std::string& uri) {
    silenceLibvirtErrors();  // errors are reported by the caller, once
    conn_.reset(virConnectOpen(uri.empty() ? nullptr : uri.c_str()));
    if (!conn_) throwLibvirtError("cannot connect to '" + uri + "'", ExitStatus::NoConnection);
}

DomainHandle LibvirtDomainConfig::lookup(const std::string& domain) {
    DomainHandle d(virDomainLookupByName(conn_.get(), domain.c_str()));
    if (!d) throwLibvirtError("domain '" + domain + "'", ExitStatus::NoSuchDomain);
    return d;
}

std::string LibvirtDomainConfig::xml(const std::string& domain, unsigned flags) {
    DomainHandle d = lookup(domain);
    LibvirtString text(virDomainGetXMLDesc(d.get(), flags));
    if (!text) throwLibvirtError("cannot read the XML of '" + domain + "'");
    return text.get();
}

std::string LibvirtDomainConfig::inactiveXml(const std::string& domain) {
    // SECURE: without it libvirt leaves out VNC/SPICE passwords, and
    // defining the edit would delete them.
    return xml(domain, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
}

std::string LibvirtDomainConfig::liveXml(const std::string& domain) {
    return xml(domain, VIR_DOMAIN_XML_SECURE);
}

bool LibvirtDomainConfig::isActive(const std::string& domain) {
    DomainHandle d = lookup(domain);
    int active = virDomainIsActive(d.get());
    if (active < 0) throwLibvirtError("cannot tell whether '" + domain + "' runs");
    return active == 1;
}

void LibvirtDomainConfig::define(const std::string& xml) {
    DomainHandle d(virDomainDefineXML(conn_.get(), xml.c_str()));
    if (!d) throwLibvirtError("libvirt refused the edited definition");
}

void LibvirtDomainConfig::attachDevice(const std::string& domain, const std::string& deviceXml) {
    DomainHandle d = lookup(domain);
    if (virDomainAttachDeviceFlags(d.get(), deviceXml.c_str(),
                                   VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG) < 0) {
        throwLibvirtError("cannot hot-plug " + deviceXml);
    }
}

void LibvirtDomainConfig::detachDevice(const std::string& domain, const std::string& deviceXml) {
    DomainHandle d = lookup(domain);
    if (virDomainDetachDeviceFlags(d.get(), deviceXml.c_str(),
                                   VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG) < 0) {
        throwLibvirtError("cannot unplug " + deviceXml);
    }
}

void LibvirtDomainConfig::setProvisionMetadata(const std::string& domain,
                                               const std::string& elementXml) {
    DomainHandle d = lookup(domain);
    const std::string uri(kProvisionNamespace);
    const std::string bare = withoutNamespace(elementXml);
    if (virDomainSetMetadata(d.get(), VIR_DOMAIN_METADATA_ELEMENT,
                             elementXml.empty() ? nullptr : bare.c_str(), "vmpower", uri.c_str(),
                             VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG) < 0) {
        throwLibvirtError("cannot set vmpower's metadata on '" + domain + "'");
    }
}

}  // namespace vmpower::provision
