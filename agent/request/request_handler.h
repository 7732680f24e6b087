#pragma once
// CONTRACT (owned by the policy/request helper; core relies on these names).
// Turns one whole record from a guest into an action and a reply.

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "clock.h"
#include "policy.h"
#include "power_control.h"
#include "vcpu_map.h"

namespace vmpower {

// What the request path knows of the VM behind a channel. Identity comes
// from the channel, never from the record's vm_name.
struct GuestIdentity {
    std::string name;
    std::string uuid;
    const VcpuMap* vcpus = nullptr;  // live map, owned by the registry
};

// Answers "does this domain's pinning share pCPUs with another running VM?"
class PcpuSharing {
public:
    virtual ~PcpuSharing() = default;
    virtual bool sharedWithOtherDomain(std::string_view uuid, const CpuSet& pcpus) const = 0;
};

// Per-channel request state (rate limiter bucket and counters).
struct ChannelRequestState;
struct ChannelRequestStateDeleter {
    void operator()(ChannelRequestState* s) const;
};
using ChannelRequestStatePtr = std::unique_ptr<ChannelRequestState, ChannelRequestStateDeleter>;

struct RequestCounters {
    std::uint64_t records = 0, acked = 0, nacked = 0, ignored = 0, rate_limited = 0;
};

class RequestHandler {
public:
    RequestHandler(PowerControl& power, const Clock& clock, const PcpuSharing& sharing,
                   std::shared_ptr<const Policy> policy);
    void setPolicy(std::shared_ptr<const Policy> policy);  // SIGHUP reload
    const Policy& policy() const { return *policy_; }

    ChannelRequestStatePtr newChannelState() const;
    RequestCounters counters(const ChannelRequestState& state) const;

    // One whole record (recordSize(format) bytes). Returns the reply to
    // send, or an empty vector when the protocol sends none (CONNECT...).
    std::vector<std::byte> handle(const GuestIdentity& guest, ChannelRequestState& state,
                                  std::span<const std::byte> record);

private:
    PowerControl& power_;
    const Clock& clock_;
    const PcpuSharing& sharing_;
    std::shared_ptr<const Policy> policy_;
};

}  // namespace vmpower
