#pragma once
// Turns one whole record from a guest into an action and a reply.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "clock.h"
#include "energy_source.h"
#include "guest_identity.h"  // GuestIdentity, PcpuSharing
#include "host_policy_sink.h"
#include "access_rules.h"
#include "power_control.h"
#include "request_counters.h"
#include "vcpu_map.h"

namespace vmpower {

struct DecodedRequest;

// Per-channel request state (rate limiter bucket and counters).
struct ChannelRequestState;
struct ChannelRequestStateDeleter {
    void operator()(ChannelRequestState* s) const;
};
using ChannelRequestStatePtr = std::unique_ptr<ChannelRequestState, ChannelRequestStateDeleter>;

// Told after every ACKed CPU_POWER request, with the rule's limits: the
// registry keeps the VM's intent from what the requester now holds (it
// travels with a live migration). Must not throw.
class HoldObserver {
  public:
    virtual void onApplied(const GuestIdentity& guest, const Requester& who, const CpuSet& pcpus,
                           const FrequencyLimits& limits) noexcept = 0;

  protected:
    ~HoldObserver() = default;
};

class RequestHandler {
  public:
    RequestHandler(PowerControl& power, const Clock& clock, const PcpuSharing& sharing,
                   std::shared_ptr<const AccessRules> policy);
    void setAccessRules(std::shared_ptr<const AccessRules> policy);  // SIGHUP reload
    // Where PKT_POLICY / PKT_POLICY_REMOVE go; none: both are refused.
    void setHostPolicies(HostPolicySink* sink) { host_policies_ = sink; }
    // Answers VMPOWER_QUERY_ENERGY from it; nullptr (the default): every
    // energy query is answered "unavailable".
    void setEnergySource(const EnergySource* energy) { energy_ = energy; }
    const AccessRules& accessRules() const { return *rules_; }
    void setHoldObserver(HoldObserver* observer) { observer_ = observer; }

    ChannelRequestStatePtr newChannelState() const;
    RequestCounters counters(const ChannelRequestState& state) const;

    // One whole record (recordSize(format) bytes). Returns the reply to
    // send, or an empty vector when the protocol sends none (CONNECT, an
    // unknown command, a record of neither size). A NACK never touches a
    // CPU. What is answered to what: docs/protocol.md.
    std::vector<std::byte> handle(const GuestIdentity& guest, ChannelRequestState& state,
                                  std::span<const std::byte> record);

  private:
    // The guest's rule under the current policy, matched once per channel.
    const AccessRule* matchedRule(const GuestIdentity& guest, ChannelRequestState& state) const;
    std::vector<std::byte> refuse(const GuestIdentity& guest, ChannelRequestState& state,
                                  const DecodedRequest& req, std::span<const std::byte> record,
                                  NackReason reason, std::string_view why);
    // PKT_POLICY and PKT_POLICY_REMOVE (policy_request.cpp).
    std::vector<std::byte> handlePolicy(const GuestIdentity& guest, ChannelRequestState& state,
                                        const DecodedRequest& req,
                                        std::span<const std::byte> record);
    std::vector<std::byte> ignore(const GuestIdentity& guest, ChannelRequestState& state,
                                  std::string_view why, bool warn);

    PowerControl& power_;
    const Clock& clock_;
    const PcpuSharing& sharing_;
    std::shared_ptr<const AccessRules> rules_;
    HoldObserver* observer_ = nullptr;
    HostPolicySink* host_policies_ = nullptr;
    const EnergySource* energy_ = nullptr;
};

}  // namespace vmpower
