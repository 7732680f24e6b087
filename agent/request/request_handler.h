#pragma once
// Turns one whole record from a guest into an action and a reply.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "access_rules.h"
#include "clock.h"
#include "energy_source.h"
#include "guest_identity.h"  // GuestIdentity, PcpuSharing
#include "host_policy_sink.h"
#include "power_control.h"
#include "request_counters.h"
#include "rules_in_force.h"
#include "vcpu_map.h"
#include "vm_budgets.h"

namespace vmpower {

struct DecodedRequest;

// Per-channel request state (counters, matched rule, the lease on its VM's
// budget).
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

// Who the handler tells or asks besides PowerControl, given at construction
// (each outlives the handler, or is null).
struct RequestHandlerLinks {
    // Where PKT_POLICY / PKT_POLICY_REMOVE go; none: both are refused.
    HostPolicySink* host_policies = nullptr;
    // Told after every ACKed CPU_POWER request; none: nobody.
    HoldObserver* observer = nullptr;
    // Answers VMPOWER_QUERY_ENERGY; none: every energy query is answered
    // "unavailable".
    const EnergySource* energy = nullptr;
};

class RequestHandler {
  public:
    // `rules`: the set in force, read at each channel's next request after
    // a reload or override replaces it. The handler outlives the channel
    // states it makes (they lease its VMs' budgets).
    RequestHandler(PowerControl& power, const Clock& clock, const PcpuSharing& sharing,
                   const RulesInForce& rules, RequestHandlerLinks links = {});
    const AccessRules& accessRules() const { return *rules_; }

    ChannelRequestStatePtr newChannelState() const;
    // How many VMs have a budget: those with a channel that sent a record.
    std::size_t budgetedVms() const { return budgets_.size(); }
    RequestCounters counters(const ChannelRequestState& state) const;

    // One whole record (recordSize(format) bytes). Returns the reply to
    // send, or an empty vector when the protocol sends none (CONNECT, an
    // unknown command, a record of neither size). A NACK never touches a
    // CPU. What is answered to what: docs/protocol.md.
    std::vector<std::byte> handle(const GuestIdentity& guest, ChannelRequestState& state,
                                  std::span<const std::byte> record);

  private:
    // The guest's rule under the rules in force, matched once per channel
    // and set of rules.
    const AccessRule* matchedRule(const GuestIdentity& guest, ChannelRequestState& state) const;
    // The budget of the channel's VM: the lease the state keeps, taken
    // again only when the channel's guest is another VM.
    VmBudget& budgetOf(const GuestIdentity& guest, ChannelRequestState& state);
    std::vector<std::byte> refuse(const GuestIdentity& guest, ChannelRequestState& state,
                                  const DecodedRequest& req, std::span<const std::byte> record,
                                  NackReason reason, std::string_view why);
    // PKT_POLICY and PKT_POLICY_REMOVE (policy_request.cpp).
    std::vector<std::byte> handlePolicy(const GuestIdentity& guest, ChannelRequestState& state,
                                        const AccessRule& rule, const DecodedRequest& req,
                                        std::span<const std::byte> record);
    std::vector<std::byte> ignore(const GuestIdentity& guest, ChannelRequestState& state,
                                  std::string_view why, bool warn);

    PowerControl& power_;
    const Clock& clock_;
    const PcpuSharing& sharing_;
    const RulesInForce& rules_;
    HoldObserver* const observer_;
    HostPolicySink* const host_policies_;
    const EnergySource* const energy_;
    VmBudgets budgets_;  // per VM, across its channels
};

}  // namespace vmpower
