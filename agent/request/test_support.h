#pragma once
// Fakes and record builders shared by the request path's unit tests.

#include <cstring>
#include <map>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "fake_power_control.h"
#include "request_handler.h"
#include "vmpower/protocol.h"

namespace vmpower::testing {

class FakeSharing final : public PcpuSharing {
  public:
    bool sharedWithOtherDomain(std::string_view, const CpuSet& pcpus) const override {
        return shared.intersects(pcpus);
    }
    CpuSet shared;
};

// A 464-byte record as librte_power builds it: zeroed, then the fields set.
inline std::vector<std::byte> packet(std::uint32_t command, std::uint32_t unit,
                                     std::uint64_t resource_id, std::string_view vm_name = "",
                                     bool physical = false) {
    vmpower_packet p;
    std::memset(&p, 0, sizeof p);
    p.command = command;
    p.unit = unit;
    p.resource_id = resource_id;
    std::memcpy(p.vm_name, vm_name.data(),
                std::min<std::size_t>(vm_name.size(), VMPOWER_VM_NAME_LEN));
    p.core_type = physical;
    std::vector<std::byte> out(sizeof p);
    std::memcpy(out.data(), &p, sizeof p);
    return out;
}

inline std::vector<std::byte> legacyPacket(std::uint32_t command, std::uint32_t unit,
                                           std::uint64_t resource_id) {
    vmpower_packet_v1 p{resource_id, unit, command};
    std::vector<std::byte> out(sizeof p);
    std::memcpy(out.data(), &p, sizeof p);
    return out;
}

template <typename T>
T fieldAt(std::span<const std::byte> bytes, std::size_t offset) {
    T v;
    std::memcpy(&v, bytes.data() + offset, sizeof v);
    return v;
}

inline std::uint32_t replyCommand(std::span<const std::byte> reply) {
    return fieldAt<std::uint32_t>(reply, offsetof(vmpower_packet, command));
}

// A guest "vm1" with vCPU i pinned to pCPU 2+i (4 vCPUs: pCPUs 2-5).
inline VcpuMap pinnedVcpus(unsigned count = 4) {
    std::vector<CpuSet> pins;
    for (unsigned i = 0; i < count; ++i) pins.push_back(CpuSet{2 + i});
    return VcpuMap(std::move(pins));
}

inline AccessRule allowAll(std::string glob = "*") {
    AccessRule r;
    r.name = "test";
    r.name_globs = {std::move(glob)};
    return r;
}

}  // namespace vmpower::testing

namespace vmpower::testing {

inline constexpr const char* kVm1Uuid = "6d1c9b0a-2f0e-4c55-9d0e-3a1f1b2c3d4e";

// A handler with fakes behind it and one channel of guest "vm1".
struct HandlerRig {
    explicit HandlerRig(AccessRule rule = allowAll(), RequestHandlerLinks links = {})
        : rules(std::make_shared<const AccessRules>(std::vector<AccessRule>{rule})),
          handler(power, clock, sharing, rules, links),
          state(handler.newChannelState()) {}

    std::vector<std::byte> send(std::span<const std::byte> record) {
        return handler.handle(guest, *state, record);
    }
    RequestCounters counters() const { return handler.counters(*state); }

    FakePowerControl power;
    ManualClock clock;
    FakeSharing sharing;
    VcpuMap vcpus = pinnedVcpus();
    GuestIdentity guest{"vm1", kVm1Uuid, &vcpus};
    RulesInForce rules;  // as the Agent's: replace() is a reload
    RequestHandler handler;
    ChannelRequestStatePtr state;
};

}  // namespace vmpower::testing
