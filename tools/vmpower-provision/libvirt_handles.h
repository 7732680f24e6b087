#pragma once
// RAII for the libvirt handles vmpower-provision uses: one deleter functor per
// handle type. Nothing else in the tool calls virConnectClose/virDomainFree.

#include <libvirt/libvirt.h>

#include <cstdlib>
#include <memory>

namespace vmpower::provision {

struct ConnectCloser {
    void operator()(virConnectPtr p) const { virConnectClose(p); }
};
struct DomainFreer {
    void operator()(virDomainPtr p) const { virDomainFree(p); }
};
// Strings libvirt returns (virDomainGetXMLDesc, virDomainGetMetadata) are the
// caller's to free().
struct LibvirtStringFreer {
    void operator()(char* p) const { std::free(p); }
};

using ConnectHandle = std::unique_ptr<virConnect, ConnectCloser>;
using DomainHandle = std::unique_ptr<virDomain, DomainFreer>;
using LibvirtString = std::unique_ptr<char, LibvirtStringFreer>;

}  // namespace vmpower::provision
