#pragma once
// RAII for libvirt's C handles: the only place virDomainFree & co. appear.

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
struct MallocDeleter {
    void operator()(void* p) const { std::free(p); }  // libvirt's char* returns
};

using ConnectHandle = std::unique_ptr<virConnect, ConnectDeleter>;
using DomainHandle = std::unique_ptr<virDomain, DomainDeleter>;
using LibvirtString = std::unique_ptr<char, MallocDeleter>;

// libvirt's last error as text. Call it right after the failing call:
// every libvirt call (virDomainFree included) resets the thread's error.
inline std::string lastLibvirtError() {
    // Before libvirt is initialised its per-thread error slot is not set
    // up and virGetLastError reads garbage; virInitialize is idempotent.
    virInitialize();
    const virError* err = virGetLastError();
    return err != nullptr && err->message != nullptr ? err->message : "unknown libvirt error";
}

inline int lastLibvirtErrorCode() {
    virInitialize();
    const virError* err = virGetLastError();
    return err != nullptr ? err->code : VIR_ERR_OK;
}

}  // namespace vmpower
