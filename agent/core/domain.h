#pragma once
// A running domain as the agent tracks it: identity, live vCPU map, channels.
// Pinned in memory (channels keep a reference to its identity).

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent_view.h"
#include "channel.h"
#include "request_handler.h"
#include "vcpu_map.h"

namespace vmpower {

struct Domain {
    Domain(std::string name, std::string uuid) {
        identity.name = std::move(name);
        identity.uuid = std::move(uuid);
        identity.vcpus = &vcpus;
    }
    Domain(const Domain&) = delete;
    Domain& operator=(const Domain&) = delete;

    GuestIdentity identity;
    VcpuMap vcpus;
    CpuSet emulator_pcpus;  // QEMU's own threads; empty when not pinned
    CpuSet iothread_pcpus;  // its IOThreads' (pins, else libvirt's default); empty: none
    // Its XML could not be parsed at the last read: it may run anywhere, so
    // its footprint is every host CPU until it can be read (issue 25).
    bool xml_unreadable = false;
    bool described = false;  // its XML was read at least once
    int id = -1;
    std::vector<std::string> problems;                      // from the XML reader, last seen
    std::map<unsigned, std::unique_ptr<Channel>> channels;  // by poweragent index
};

// The domain as a value, for the control room (agent/view/agent_view.h).
DomainView domainView(const Domain& d);

}  // namespace vmpower
