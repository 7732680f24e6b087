#pragma once
// Reads the parts of a libvirt domain XML that vmpowerd needs: the domain's
// identity, its power channels (virtio.serial.port.poweragent.N) and its vCPU
// pinning. Text in, plain data out: nothing here knows about the agent,
// sockets or libvirt handles. See docs/domain-xml.md.

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "cpu_limits.h"
#include "cpu_set.h"

namespace vmpower {

// The document cannot describe a domain at all: not XML, or no <domain>,
// <name> or <uuid>. Anything less serious lands in DomainDescription::problems.
class DomainXmlError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct PowerChannel {
    unsigned index = 0;        // N of virtio.serial.port.poweragent.N (the guest lcore)
    std::string target_name;   // the full virtio port name
    std::string type;          // always "unix" in DomainDescription::channels
    std::string source_path;   // absolute, fits sun_path
    std::string source_mode;   // "bind" (QEMU listens) or "" when absent
    std::string alias;         // e.g. "channel1"; DEVICE_ADDED/REMOVED name this
    std::string target_state;  // "connected", "disconnected" or "" (inactive XML)
};

// A network interface, for host policies' TRAFFIC (which MAC is which
// host device). Only ones with both a MAC and a host device are listed.
struct NetInterface {
    std::string mac;         // as written: "52:54:00:12:34:56"
    std::string target_dev;  // the host side: vnet0, a tap, a VF's netdev
};

struct DomainDescription {
    // Bounds what a hostile <vcpu> count can make callers allocate; also the
    // highest poweragent index + 1 we accept (power_channel.h).
    static constexpr unsigned kMaxVcpus = vmpower::kMaxVcpus;

    std::string name;
    std::string uuid;
    int id = -1;  // -1: not running (or no id= attribute)
    unsigned vcpus_current = 0;
    unsigned vcpus_max = 0;
    // The ids of the online vCPUs, ascending; size() == vcpus_current. Without
    // a <vcpus> element these are 0..current-1; with one they may have gaps.
    std::vector<unsigned> online_vcpus;
    std::optional<CpuSet> vcpu_cpuset;   // <vcpu cpuset=...>
    bool placement_auto = false;         // <vcpu placement='auto'> (numad)
    std::map<unsigned, CpuSet> vcpupin;  // vCPU id -> <cputune><vcpupin cpuset>
    std::optional<CpuSet> emulatorpin;
    // IOThreads: the ids from <iothreadids>, topped up to <iothreads>N with
    // the lowest free ids from 1 (as libvirt numbers them), ascending, at
    // most kMaxIothreads; and their <cputune><iothreadpin> sets.
    std::vector<unsigned> iothreads;
    std::map<unsigned, CpuSet> iothreadpin;
    static constexpr unsigned kMaxIothreads = kMaxVcpus;
    // Only usable ones (powerChannelFlaw() says None: type unix, virtio
    // target, absolute path that fits a unix socket address, QEMU listening)
    // with a valid unique index; the rest are problems. Document order.
    std::vector<PowerChannel> channels;
    std::vector<NetInterface> interfaces;  // at most kMaxInterfaces, document order
    static constexpr std::size_t kMaxInterfaces = 256;
    // One human-readable line per surprise, each naming the channel or element
    // it is about; the rest of the description is still valid.
    std::vector<std::string> problems;
};

// Throws DomainXmlError only when there is no domain to describe.
DomainDescription parseDomainXml(std::string_view xml);

// The CPUs each online vCPU may run on, one entry per vCPU in
// online_vcpus order (entry i is vCPU online_vcpus[i]): its <vcpupin>, else
// <vcpu cpuset>, else host_cpus. With placement='auto' and no cpuset the
// numad-chosen CPUs are not in the XML, so host_cpus stands in (a superset
// of the truth; virDomainGetVcpuPinInfo gives the real affinity).
std::vector<CpuSet> effectiveVcpuPins(const DomainDescription& domain, const CpuSet& host_cpus);

// The CPUs the domain's IOThreads may run on: each one's <iothreadpin>, else
// libvirt's default placement (<vcpu cpuset>, else host_cpus, as for vCPUs).
// Empty when the domain has no IOThread.
CpuSet iothreadCpus(const DomainDescription& domain, const CpuSet& host_cpus);

}  // namespace vmpower
