// PKT_POLICY and PKT_POLICY_REMOVE: decoded here, run by the host policy
// engine behind HostPolicySink (agent/hostpolicy). Identity is the channel's
// domain; the record's vm_name is never read.

#include <spdlog/spdlog.h>

#include "channel_request_state.h"
#include "log.h"
#include "policy_record.h"
#include "reply_builder.h"
#include "request_decoder.h"
#include "request_handler.h"

namespace vmpower {

std::vector<std::byte> RequestHandler::handlePolicy(const GuestIdentity& guest,
                                                    ChannelRequestState& state,
                                                    const AccessRule& rule,
                                                    const DecodedRequest& req,
                                                    std::span<const std::byte> record) {
    if (host_policies_ == nullptr)
        return refuse(guest, state, req, record, NackReason::PoliciesNotServed,
                      "host policies are not served here");
    // Each one may cost arbiter applies, perf_event_open calls and a log
    // line: a budget of its own per VM, smaller than the requests'.
    if (!budgetOf(guest, state).policies.take(clock_.now(), rule.policy_rate, rule.policy_burst)) {
        ++state.counters.rate_limited;
        return refuse(guest, state, req, record, NackReason::RateLimited,
                      "over the VM's host-policy rate limit");
    }
    if (req.kind == RequestKind::PktPolicyRemove) {
        const bool had = host_policies_->removeHostPolicy(guest.uuid);
        ++state.counters.acked;
        LOG(Requests).debug("vm {}: PKT_POLICY_REMOVE: {}", guest.name,
                            had ? "policy removed" : "there was none");
        return {};
    }
    if (req.format != RecordFormat::Dpdk464)
        return refuse(guest, state, req, record, NackReason::LegacyFormat,
                      "policies do not exist in legacy-16 records");
    const std::size_t vcpus = guest.vcpus ? guest.vcpus->vcpuCount() : 0;
    PolicyRecord decoded = decodePolicyRecord(record, vcpus);
    if (!decoded.policy) return refuse(guest, state, req, record, decoded.reason, decoded.refusal);
    const Verdict set =
        host_policies_->setHostPolicy(guest, std::move(*decoded.policy), PolicyOrigin::Guest);
    if (!set) return refuse(guest, state, req, record, NackReason::PolicyRefused, set.reason());
    ++state.counters.acked;
    return echoReply(record, VMPOWER_CMD_ACK);
}

}  // namespace vmpower
