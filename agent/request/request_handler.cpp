#include "request_handler.h"

#include <spdlog/spdlog.h>

#include "channel_request_state.h"
#include "energy_answer.h"
#include "log.h"
#include "power_decision.h"
#include "query_answer.h"
#include "reply_builder.h"
#include "request_decoder.h"

namespace vmpower {

void ChannelRequestStateDeleter::operator()(ChannelRequestState* s) const {
    delete s;
}

RequestHandler::RequestHandler(PowerControl& power, const Clock& clock, const PcpuSharing& sharing,
                               const RulesInForce& rules, RequestHandlerLinks links)
    : power_(power),
      clock_(clock),
      sharing_(sharing),
      rules_(rules),
      observer_(links.observer),
      host_policies_(links.host_policies),
      energy_(links.energy) {}

ChannelRequestStatePtr RequestHandler::newChannelState() const {
    return ChannelRequestStatePtr(new ChannelRequestState);
}

RequestCounters RequestHandler::counters(const ChannelRequestState& state) const {
    return state.counters;
}

std::vector<std::byte> RequestHandler::handle(const GuestIdentity& guest,
                                              ChannelRequestState& state,
                                              std::span<const std::byte> record) {
    ++state.counters.records;
    const auto decoded = decodeRecord(record);
    if (!decoded) {
        ++state.counters.by_command[commandSlot(RequestKind::Unknown, std::nullopt)];
        return ignore(guest, state, "record of an unknown size", true);
    }
    const DecodedRequest& req = *decoded;
    ++state.counters.by_command[commandSlot(req.kind, req.action)];
    if (req.kind == RequestKind::Connect) return ignore(guest, state, "CONNECT", false);
    // We cannot know what size of reply a command we do not know expects,
    // and a wrong-sized one would put the guest's reads out of step.
    if (req.kind == RequestKind::Unknown) {
        return ignore(guest, state, "unknown command " + std::to_string(req.command), true);
    }

    // Identity is the channel's domain; the record's vm_name is never read.
    const AccessRule* rule = matchedRule(guest, state);
    if (!rule)
        return refuse(guest, state, req, record, NackReason::NoRule,
                      "no policy rule matches this VM");
    if (!budgetOf(guest, state)
             .requests.take(clock_.now(), rule->requests_per_second, rule->burst)) {
        ++state.counters.rate_limited;
        return refuse(guest, state, req, record, NackReason::RateLimited,
                      "over the VM's rate limit");
    }

    if (req.kind == RequestKind::PktPolicy || req.kind == RequestKind::PktPolicyRemove) {
        return handlePolicy(guest, state, *rule, req, record);
    }
    if (req.kind == RequestKind::QueryEnergy) {
        if (req.format == RecordFormat::Legacy16) {
            return refuse(guest, state, req, record, NackReason::LegacyFormat,
                          "queries do not exist in legacy-16 records");
        }
        if (!rule->energy)
            return refuse(guest, state, req, record, NackReason::NotAllowed,
                          "energy not allowed by the policy");
        ++state.counters.answered;
        return energyReply(record, energy_ ? energy_->guestReading(guest.uuid) : std::nullopt);
    }
    if (isQuery(req.kind)) {
        if (req.format == RecordFormat::Legacy16) {
            return refuse(guest, state, req, record, NackReason::LegacyFormat,
                          "queries do not exist in legacy-16 records");
        }
        if (!rule->queries)
            return refuse(guest, state, req, record, NackReason::NotAllowed,
                          "queries not allowed by the policy");
        Checked<std::vector<std::byte>> answer = answerQuery(req, record, guest, power_);
        if (!answer)
            return refuse(guest, state, req, record, NackReason::UnknownCpu, answer.reason());
        ++state.counters.answered;
        LOG(Requests).debug("vm {}: {} resource_id {} answered", guest.name, kindName(req.kind),
                            req.resource_id);
        return std::move(*answer);
    }

    PowerDecision decision = decidePower(*rule, guest, req, sharing_);
    if (!decision.target)
        return refuse(guest, state, req, record, decision.reason, decision.refusal);
    const PowerTarget& t = *decision.target;
    PowerVerdict verdict = power_.apply(t.who, t.pcpus, t.action, rule->limits);
    if (!verdict.applied) {
        const NackReason why = verdict.held_by_operator  ? NackReason::HeldByOperator
                               : verdict.shared_hardware ? NackReason::SharedHardware
                                                         : NackReason::CpufreqFailed;
        return refuse(guest, state, req, record, why, "cpufreq refused: " + verdict.refusal);
    }
    ++state.counters.acked;
    if (observer_ != nullptr) observer_->onApplied(guest, t.who, t.pcpus, rule->limits);
    if (LOG(Requests).should_log(spdlog::level::debug)) {  // no formatting on the request path
        LOG(Requests).debug("vm {}: CPU_POWER unit {} resource_id {} on pCPUs {}: ACK", guest.name,
                            req.unit, req.resource_id, t.pcpus.toString());
    }
    return echoReply(record, VMPOWER_CMD_ACK);
}

const AccessRule* RequestHandler::matchedRule(const GuestIdentity& guest,
                                              ChannelRequestState& state) const {
    // A pointer comparison per request (current() is a reference: no
    // atomic); the copy into the state only when the rules or guest changed.
    const std::shared_ptr<const AccessRules>& in_force = rules_.current();
    if (state.matched_rules != in_force || state.matched_uuid != guest.uuid ||
        state.matched_name != guest.name) {
        state.matched_rules = in_force;
        state.matched_name = guest.name;
        state.matched_uuid = guest.uuid;
        state.rule = in_force->match(guest.name, guest.uuid);
    }
    return state.rule;
}

VmBudget& RequestHandler::budgetOf(const GuestIdentity& guest, ChannelRequestState& state) {
    if (!state.vm || state.vm.uuid() != guest.uuid) state.vm = budgets_.lease(guest.uuid);
    return *state.vm;
}

std::vector<std::byte> RequestHandler::refuse(const GuestIdentity& guest,
                                              ChannelRequestState& state, const DecodedRequest& req,
                                              std::span<const std::byte> record, NackReason reason,
                                              std::string_view why) {
    // DPDK answers no PKT_POLICY_REMOVE: a NACK would put the guest's reads
    // out of step.
    if (req.kind == RequestKind::PktPolicyRemove)
        return ignore(guest, state, std::string("PKT_POLICY_REMOVE refused: ") + std::string(why),
                      true);
    state.counters.countNack(reason);
    std::uint64_t held = 0;
    if (budgetOf(guest, state).refusal_log.allow(clock_.now(), held)) {
        LOG(Requests).warn("vm {}: {} unit {} resource_id {}: NACK, {}{}", guest.name,
                           kindName(req.kind), req.unit, req.resource_id, why,
                           suppressedNote(held));
    } else {
        LOG(Requests).debug("vm {}: {} unit {} resource_id {}: NACK, {}", guest.name,
                            kindName(req.kind), req.unit, req.resource_id, why);
    }
    // A query's NACK has the size of the reply the guest waits for.
    if (isQuery(req.kind) && req.format == RecordFormat::Dpdk464)
        return queryNack(req.kind, record);
    return echoReply(record, VMPOWER_CMD_NACK);
}

std::vector<std::byte> RequestHandler::ignore(const GuestIdentity& guest,
                                              ChannelRequestState& state, std::string_view why,
                                              bool warn) {
    ++state.counters.ignored;
    std::uint64_t held = 0;
    if (warn && budgetOf(guest, state).refusal_log.allow(clock_.now(), held)) {
        LOG(Requests).warn("vm {}: {} ignored, no reply{}", guest.name, why, suppressedNote(held));
    } else {
        LOG(Requests).debug("vm {}: {} ignored, no reply", guest.name, why);
    }
    return {};
}

}  // namespace vmpower
