#pragma once
// RAII for libvirt's C handles and its last error, for every libvirt user in
// vmpower (vmpowerd's LibvirtHypervisor, vmpower-provision's
// LibvirtDomainConfig): the only place virDomainFree & co. appear.

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <cstdlib>
#include <memory>
#include <string>

namespace vmpower {

struct ConnectDeleter {
    void operator()(virConnectPtr c) const { virConnectClose(c); }
};
struct DomainDeleter {
    void operator()(virDomainPtr d) const { virDomainFree(d); }
};
// Strings libvirt returns (virDomainGetXMLDesc, virDomainGetMetadata, ...)
// are the caller's to free().
struct LibvirtStringDeleter {
    void operator()(void* p) const { std::free(p); }
};

using ConnectHandle = std::unique_ptr<virConnect, ConnectDeleter>;
using DomainHandle = std::unique_ptr<virDomain, DomainDeleter>;
using LibvirtString = std::unique_ptr<char, LibvirtStringDeleter>;
// Arrays libvirt allocates for the caller (virConnectListAllDomains' list,
// virNodeGetCPUMap's map): free()d, their elements owned separately.
template <typename T>
using LibvirtArray = std::unique_ptr<T[], LibvirtStringDeleter>;

// libvirt's last error as text. Call it right after the failing call:
// every libvirt call (virDomainFree included) resets the thread's error.
inline std::string lastLibvirtError() {
    // Before libvirt is initialised its per-thread error slot is not set
    // up and virGetLastError reads garbage; virInitialize is idempotent.
    virInitialize();
    const virError* err = virGetLastError();
    return err != nullptr && err->message != nullptr ? err->message : "unknown libvirt error";
}

// VIR_ERR_OK when there is no error.
inline int lastLibvirtErrorCode() {
    virInitialize();
    const virError* err = virGetLastError();
    return err != nullptr ? err->code : VIR_ERR_OK;
}

// Stops libvirt printing every error to stderr itself: the caller reports
// each one, once, with lastLibvirtError().
inline void silenceLibvirtErrors() {
    virSetErrorFunc(nullptr, [](void*, virErrorPtr) {});
}

}  // namespace vmpower
