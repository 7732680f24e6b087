#include "domain_json.h"

#include <string>

#include "channel_statistics.h"
#include "control_protocol.h"
#include "host_policy_json.h"
#include "level_position.h"
#include "power_action.h"
#include "record_format.h"
#include "request_counters.h"

namespace vmpower::control {

namespace {

using json = nlohmann::json;
namespace key = protocol::key;

// One vCPU's intent and where it came from (docs/operations.md, "During a
// live migration"); null when it holds nothing.
json intentJson(const VcpuIntentRecord& r) {
    const VcpuIntent& i = r.intent;
    const std::string at = intentTimeText(r.at);
    std::string from;
    const char* origin = "guest";
    switch (r.origin) {
        case VcpuIntentRecord::Origin::Guest:
            from = "held since " + at;
            break;
        case VcpuIntentRecord::Origin::Migration:
            from = "restored from migration (at " + at + ")";
            origin = "migration";
            break;
        case VcpuIntentRecord::Origin::AgentRestart:
            from = "restored after an agent restart (at " + at + ")";
            origin = "restart";
            break;
    }
    if (!r.applied) from += ", not applied: " + r.refusal;
    json out = {{key::kLevel, i.level ? json(std::string(nameIn(kLevelKindNames, i.level->kind)))
                                      : json(nullptr)},
                {key::kLevelText, i.level ? describe(*i.level) : std::string("-")},
                {key::kKhz, i.khz ? json(*i.khz) : json(nullptr)},
                {key::kTurbo, i.turbo ? json(*i.turbo) : json(nullptr)},
                {key::kOrigin, origin},
                {key::kAt, at},
                {key::kApplied, r.applied},
                {key::kRefusal, r.refusal},
                {key::kFrom, from}};
    if (i.level && i.level->kind == LevelPosition::Kind::Step) {
        out[key::kFromTop] = i.level->from_top;
        out[key::kOf] = i.level->of;
    }
    return out;
}

// The host policy the intent carries (the fields as written), or why a
// migrated one was not taken here.
json intentHostPolicyJson(const DomainIntentRecord* intent) {
    if (intent == nullptr) return nullptr;
    if (!intent->host_policy) {
        if (intent->host_policy_refusal.empty()) return nullptr;
        return {{key::kRefusal, intent->host_policy_refusal}};
    }
    json out = {{key::kSetBy, intent->host_policy->set_by_guest ? "guest" : "operator"}};
    for (const auto& [field, value] : hostPolicyFields(intent->host_policy->policy))
        out[field] = value;
    return out;
}

}  // namespace

json channelJson(const ChannelView& ch) {
    const ChannelStats& s = ch.stats;
    json nacks = json::object();  // only the reasons seen
    for (std::size_t i = 0; i < kNackReasonCount; ++i) {
        if (s.requests.nacks_by_reason[i] != 0)
            nacks[std::string(nackReasonName(static_cast<NackReason>(i)))] =
                s.requests.nacks_by_reason[i];
    }
    json out = {{key::kIndex, ch.index},        {key::kPath, ch.path},
                {key::kAlias, ch.alias},        {key::kState, channelStateName(ch.state)},
                {key::kEnabled, ch.enabled},    {key::kNacksByReason, std::move(nacks)},
                {key::kLastError, s.last_error}};
    forEachChannelStatistic(s, [&](const protocol::object::ChannelStatistic& c,
                                   std::uint64_t value) { out[c.key] = value; });
    return out;
}

json domainJson(const DomainView& d, const DomainIntentRecord* intent) {
    json vcpus = json::array();
    for (std::size_t v = 0; v < d.vcpus.vcpuCount(); ++v) {
        json entry = {
            {key::kVcpu, v}, {key::kPcpus, d.vcpus.pcpus(v).toString()}, {key::kIntent, nullptr}};
        if (intent != nullptr) {
            auto r = intent->vcpus.find(static_cast<unsigned>(v));
            if (r != intent->vcpus.end()) entry[key::kIntent] = intentJson(r->second);
        }
        vcpus.push_back(std::move(entry));
    }
    json channels = json::array();
    for (const ChannelView& ch : d.channels) channels.push_back(channelJson(ch));
    return {{key::kName, d.name},
            {key::kUuid, d.uuid},
            {key::kId, d.id},
            {key::kVcpus, vcpus},
            {key::kEmulatorPcpus, d.emulator_pcpus.toString()},
            {key::kChannels, channels},
            {key::kProblems, d.problems},
            {key::kIntentHostPolicy, intentHostPolicyJson(intent)}};
}

json ruleJson(const AccessRule& r, const RuleOverride* over, const DomainView* d) {
    json commands = json::array();
    for (PowerAction a : r.allowed_actions) commands.push_back(powerActionName(a));
    json out = {{key::kLabel, r.name},
                {key::kOverride, over != nullptr},
                {key::kName, r.name_globs},
                {key::kUuid, r.uuids},
                {key::kPcpus, r.allowed_pcpus ? json(r.allowed_pcpus->toString()) : json(nullptr)},
                {key::kCommands, commands},
                {key::kFloorKhz, r.limits.floor_khz},
                {key::kCeilingKhz, r.limits.ceiling_khz},
                {key::kRate, r.requests_per_second},
                {key::kBurst, r.burst},
                {key::kPhysical, r.physical_addressing},
                {key::kQueries, r.queries},
                {key::kEnergy, r.energy},
                {key::kMultiPcpu, r.multi_pcpu},
                {key::kSharedPcpus, r.shared_pcpus},
                {key::kRecordFormat, std::string(recordFormatName(r.record_format))}};
    if (over != nullptr) out[key::kOverrides] = {{key::kQueries, over->queries}};
    // What the VM may scale now: the rule's list, or its vCPUs' pinning.
    if (d != nullptr) {
        out[key::kEffectivePcpus] =
            r.allowed_pcpus ? r.allowed_pcpus->toString() : d->vcpus.allPcpus().toString();
    }
    return out;
}

}  // namespace vmpower::control
