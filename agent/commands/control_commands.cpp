// The control socket's commands: each a small handler over AgentOperations.

#include "control_commands.h"

#include <algorithm>
#include <array>
#include <exception>
#include <initializer_list>
#include <stdexcept>
#include <string_view>

#include "agent_metrics.h"
#include "channel_statistics.h"
#include "energy_json.h"
#include "host_policy_json.h"
#include "level_position.h"
#include "power_action.h"
#include "power_channel.h"
#include "record_format.h"
#include "request_counters.h"

#ifndef VMPOWER_VERSION
#define VMPOWER_VERSION "unknown"  // meson passes the project's version
#endif

namespace vmpower {

namespace {

using json = nlohmann::json;

// A bad argument: answered {"ok": false, "error": "<cmd>: <what>"}.
class ArgError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

json ok() {
    return {{"ok", true}};
}
json error(const std::string& msg) {
    return {{"ok", false}, {"error", msg}};
}

const json& requiredArg(const json& req, const char* key) {
    auto it = req.find(key);
    if (it == req.end()) throw ArgError(std::string("'") + key + "' is required");
    return *it;
}

std::string stringArg(const json& req, const char* key) {
    const json& v = requiredArg(req, key);
    if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
        throw ArgError(std::string("'") + key + "' must be a non-empty string");
    }
    return v.get<std::string>();
}

unsigned numberArg(const json& req, const char* key, unsigned max, const char* what) {
    const json& v = requiredArg(req, key);
    // Parsed text gives unsigned numbers, in-process callers signed ones.
    bool in_range = v.is_number_unsigned() ? v.get<std::uint64_t>() <= max
                    : v.is_number_integer()
                        ? v.get<std::int64_t>() >= 0 && v.get<std::int64_t>() <= std::int64_t{max}
                        : false;
    if (!in_range) {
        throw ArgError(std::string("'") + key + "' must be " + what + " (0-" + std::to_string(max) +
                       ")");
    }
    return static_cast<unsigned>(v.get<std::uint64_t>());
}

unsigned cpuArg(const json& req, const char* key) {
    return numberArg(req, key, CpuSet::kMaxCpu, "a CPU number");
}

std::string choiceArg(const json& req, const char* key,
                      std::initializer_list<std::string_view> choices) {
    const json& v = requiredArg(req, key);
    std::string all;
    for (auto c : choices) {
        if (v.is_string() && v.get_ref<const std::string&>() == c) return std::string(c);
        all += all.empty() ? "" : "|";
        all += c;
    }
    throw ArgError(std::string("'") + key + "' must be " + all);
}

// A hold's "vcpu" in show-cpu-freq, as it has always been shown: the vCPU,
// or the host CPU for the operator; a PHYSICAL request's host CPU with bit
// 31 set, a host policy's vCPU with bit 30 set.
unsigned shownNumber(const Requester& who) {
    switch (who.kind()) {
        case Requester::Kind::Physical:
            return (1U << 31) | who.number();
        case Requester::Kind::HostPolicy:
            return (1U << 30) | who.number();
        case Requester::Kind::Vcpu:
        case Requester::Kind::Operator:
            break;
    }
    return who.number();
}

json channelJson(const ChannelView& ch) {
    const ChannelStats& s = ch.stats;
    json nacks = json::object();  // only the reasons seen
    for (std::size_t i = 0; i < kNackReasonCount; ++i) {
        if (s.requests.nacks_by_reason[i] != 0)
            nacks[std::string(nackReasonName(static_cast<NackReason>(i)))] =
                s.requests.nacks_by_reason[i];
    }
    json out = {{"index", ch.index},         {"path", ch.path},
                {"alias", ch.alias},         {"state", channelStateName(ch.state)},
                {"enabled", ch.enabled},     {"nacks_by_reason", std::move(nacks)},
                {"last_error", s.last_error}};
    for (const ChannelStatistic& c : kChannelStatistics) out[std::string(c.key)] = c.value(s);
    return out;
}

// One vCPU's intent and where it came from (docs/operations.md, "During a
// live migration"); null when it holds nothing.
json intentJson(const VcpuIntentRecord& r) {
    const VcpuIntent& i = r.intent;
    const bool migrated = r.origin == VcpuIntentRecord::Origin::Migration;
    const std::string at = intentTimeText(r.at);
    std::string from = migrated ? "restored from migration (at " + at + ")" : "held since " + at;
    if (!r.applied) from += ", not applied: " + r.refusal;
    json out = {{"level", i.level ? json(std::string(nameIn(kLevelKindNames, i.level->kind)))
                                  : json(nullptr)},
                {"level_text", i.level ? describe(*i.level) : std::string("-")},
                {"khz", i.khz ? json(*i.khz) : json(nullptr)},
                {"turbo", i.turbo ? json(*i.turbo) : json(nullptr)},
                {"origin", migrated ? "migration" : "guest"},
                {"at", at},
                {"applied", r.applied},
                {"refusal", r.refusal},
                {"from", from}};
    if (i.level && i.level->kind == LevelPosition::Kind::Step) {
        out["from_top"] = i.level->from_top;
        out["of"] = i.level->of;
    }
    return out;
}

// The host policy the intent carries (the fields as written), or why a
// migrated one was not taken here.
json intentHostPolicyJson(const DomainIntentRecord* intent) {
    if (intent == nullptr) return nullptr;
    if (!intent->host_policy) {
        if (intent->host_policy_refusal.empty()) return nullptr;
        return {{"refusal", intent->host_policy_refusal}};
    }
    json out = {{"set_by", intent->host_policy->set_by_guest ? "guest" : "operator"}};
    for (const auto& [key, value] : hostPolicyFields(intent->host_policy->policy)) out[key] = value;
    return out;
}

json domainJson(const DomainView& d, const DomainIntentRecord* intent) {
    json vcpus = json::array();
    for (std::size_t v = 0; v < d.vcpus.vcpuCount(); ++v) {
        json entry = {{"vcpu", v}, {"pcpus", d.vcpus.pcpus(v).toString()}, {"intent", nullptr}};
        if (intent != nullptr) {
            auto r = intent->vcpus.find(static_cast<unsigned>(v));
            if (r != intent->vcpus.end()) entry["intent"] = intentJson(r->second);
        }
        vcpus.push_back(std::move(entry));
    }
    json channels = json::array();
    for (const ChannelView& ch : d.channels) channels.push_back(channelJson(ch));
    return {{"name", d.name},
            {"uuid", d.uuid},
            {"id", d.id},
            {"vcpus", vcpus},
            {"emulator_pcpus", d.emulator_pcpus.toString()},
            {"channels", channels},
            {"problems", d.problems},
            {"intent_host_policy", intentHostPolicyJson(intent)}};
}

json ruleJson(const AccessRule& r, const RuleOverride* over, const DomainView* d) {
    json commands = json::array();
    for (PowerAction a : r.allowed_actions) commands.push_back(powerActionName(a));
    json out = {{"label", r.name},
                {"override", over != nullptr},
                {"name", r.name_globs},
                {"uuid", r.uuids},
                {"pcpus", r.allowed_pcpus ? json(r.allowed_pcpus->toString()) : json(nullptr)},
                {"commands", commands},
                {"floor_khz", r.limits.floor_khz},
                {"ceiling_khz", r.limits.ceiling_khz},
                {"rate", r.requests_per_second},
                {"burst", r.burst},
                {"physical", r.physical_addressing},
                {"queries", r.queries},
                {"energy", r.energy},
                {"multi_pcpu", r.multi_pcpu},
                {"shared_pcpus", r.shared_pcpus},
                {"record_format", std::string(recordFormatName(r.record_format))}};
    if (over != nullptr) out["overrides"] = {{"queries", over->queries}};
    // What the VM may scale now: the rule's list, or its vCPUs' pinning.
    if (d != nullptr) {
        out["effective_pcpus"] =
            r.allowed_pcpus ? r.allowed_pcpus->toString() : d->vcpus.allPcpus().toString();
    }
    return out;
}

using Ops = AgentOperations;

DomainView runningDomain(const Ops& a, const json& req) {
    std::string name = stringArg(req, "name");
    auto d = a.domain(name);
    if (!d) {
        throw ArgError("no running domain '" + name +
                       "' (vmpowerd tracks running domains only; is it started?)");
    }
    return std::move(*d);
}

json version(Ops&, const json&);

json ping(Ops&, const json&) {
    return ok();
}

json state(Ops& a, const json&) {
    return agentStateJson(a);
}

json showVm(Ops& a, const json& req) {
    const DomainView d = runningDomain(a, req);
    json out = domainJson(d, a.powerIntent(d.uuid));
    out["last_power_refusal"] = a.power().lastRefusal(d.uuid);
    const auto policy = a.hostPolicy(d.uuid);
    out["host_policy"] = policy ? hostPolicyJson(*policy) : json(nullptr);
    addVmEnergy(out, a.energy(), d.uuid);
    out["ok"] = true;
    return out;
}

json listChannels(Ops& a, const json&) {
    json channels = json::array();
    for (const DomainView& d : a.domains()) {
        for (const ChannelView& ch : d.channels) {
            json c = channelJson(ch);
            c["vm"] = d.name;
            c["uuid"] = d.uuid;
            channels.push_back(std::move(c));
        }
    }
    return {{"ok", true}, {"channels", channels}};
}

json showCpuFreq(Ops& a, const json& req) {
    unsigned cpu = cpuArg(req, "cpu");
    const PowerControl& power = a.power();
    auto cur = power.currentFrequency(cpu);
    if (!cur) return error("CPU " + std::to_string(cpu) + " has no cpufreq");
    // Who may ask for this CPU: the vCPUs pinned to it.
    json users = json::array();
    for (const DomainView& d : a.domains()) {
        for (std::size_t v = 0; v < d.vcpus.vcpuCount(); ++v) {
            if (d.vcpus.pcpus(v).contains(cpu)) users.push_back({{"vm", d.name}, {"vcpu", v}});
        }
    }
    json out = {{"ok", true},
                {"cpu", cpu},
                {"khz", *cur},
                {"available_khz", power.availableFrequencies(cpu)},
                {"turbo", power.turboCapable(cpu)},
                {"vcpus", users},
                {"host_cpus", power.hostCpus().toString()}};
    // Shared hardware: who runs on this CPU's policy, who holds what.
    if (auto d = power.describe(cpu)) {
        auto orNull = [](const auto& v) { return v ? json(*v) : json(nullptr); };
        json holds = json::array();
        for (const auto& h : d->holds) {
            holds.push_back({{"holder", h.who.isOperator() ? std::string("operator") : h.name},
                             {"vcpu", shownNumber(h.who)},
                             {"khz", orNull(h.khz)},
                             {"turbo", orNull(h.turbo)}});
        }
        out["policy"] = {{"name", d->policy},
                         {"cpus", d->cpus.toString()},
                         {"stakeholders", d->stakeholders},
                         {"host_cpus", d->host_cpus.toString()},
                         {"holds", holds},
                         {"consent", d->consent},
                         {"found_ceiling_khz", orNull(d->found_ceiling_khz)},
                         {"applied_khz", orNull(d->applied_khz)},
                         {"note", d->note},
                         {"turbo_file", orNull(d->turbo_file)},
                         {"turbo_global", d->turbo_global},
                         {"turbo_consent", d->turbo_consent}};
    }
    return out;
}

json setCpuFreq(Ops& a, const json& req) {
    unsigned cpu = cpuArg(req, "cpu");
    const json& word = requiredArg(req, "action");
    auto action =
        word.is_string() ? parsePowerAction(word.get_ref<const std::string&>()) : std::nullopt;
    if (!action) throw ArgError("'action' must be " + joinedNames(kPowerActionNames, "|"));
    // The operator holds requests like a VM does (the highest hold wins).
    // It is root's override of the shared-hardware rule: the reply says
    // which running VMs it affects.
    PowerVerdict v = a.applyOperatorRequest(cpu, *action);
    if (!v.applied) return error("CPU " + std::to_string(cpu) + ": " + v.refusal);
    json out = ok();
    out["affects"] = v.affected;
    return out;
}

json setPcpu(Ops& a, const json& req) {
    std::string name = stringArg(req, "name");
    unsigned vcpu = numberArg(req, "vcpu", CpuSet::kMaxCpu, "a vCPU number");
    auto set = CpuSet::parse(stringArg(req, "pcpus"));
    if (!set || set->empty()) throw ArgError("'pcpus' must be a cpulist like 2-3,5");
    a.pinVcpu(name, vcpu, *set);  // throws with libvirt's reason
    return ok();                  // the TUNABLE event updates our map
}

json setChannelStatus(Ops& a, const json& req) {
    const DomainView d = runningDomain(a, req);
    unsigned index = numberArg(req, "index", kMaxPowerChannelIndex, "a channel index");
    bool enable = choiceArg(req, "status", {"enabled", "disabled"}) == "enabled";
    if (!a.setChannelEnabled(d.uuid, index, enable)) {
        return error(d.name + " has no power channel " + std::to_string(index) + " (" +
                     powerChannelName(index) + ")");
    }
    json out = ok();
    // Its state now: a fresh snapshot.
    if (auto now = a.domain(d.uuid)) {
        for (const ChannelView& ch : now->channels) {
            if (ch.index == index) out["state"] = channelStateName(ch.state);
        }
    }
    return out;
}

json setQuery(Ops& a, const json& req) {
    const DomainView d = runningDomain(a, req);
    bool enable = choiceArg(req, "action", {"enable", "disable"}) == "enable";
    if (enable && a.accessRules().matchRules(d.name, d.uuid) == nullptr) {
        return error("no policy rule matches " + d.name +
                     ": it is denied everything; add a rule to the config file, then "
                     "`vmpowerctl reload` (or SIGHUP)");
    }
    a.setQueryOverride(d.name, d.uuid, enable);
    json out = ok();
    out["queries"] = enable;
    out["note"] = "in force until the next reload (SIGHUP, `vmpowerctl reload`) or restart";
    return out;
}

json showPolicy(Ops& a, const json& req) {
    std::string name = stringArg(req, "name");
    const std::optional<DomainView> running = a.domain(name);
    const DomainView* d = running ? &*running : nullptr;
    std::string vm = d ? d->name : name, uuid = d ? d->uuid : "";
    if (d == nullptr) {  // a defined, stopped domain is a fair question too
        auto known = a.lookupDefined(name);
        if (!known) return error("no domain '" + name + "' known to libvirt");
        vm = known->name;
        uuid = known->uuid;
    }
    const AccessRules& policy = a.accessRules();
    const AccessRule* rule = policy.match(vm, uuid);
    json out = {{"ok", true},
                {"vm", vm},
                {"uuid", uuid},
                {"running", d != nullptr},
                {"matched", rule != nullptr}};
    if (rule == nullptr) {
        out["note"] = "no rule matches: every request is answered NACK and no CPU is touched";
        return out;
    }
    const RuleOverride* over = policy.overrideFor(uuid);
    out["rule_index"] =
        over ? over->rule_index : static_cast<std::size_t>(rule - policy.rules().data());
    out["rule"] = ruleJson(*rule, over, d);
    return out;
}

json energy(Ops& a, const json&) {
    return energyJson(a.energy());
}

json setPolicy(Ops& a, const json& req) {
    const DomainView d = runningDomain(a, req);
    HostPolicy policy;
    try {
        policy = hostPolicyFromJson(req);
    } catch (const std::invalid_argument& e) {
        throw ArgError(e.what());
    }
    const Verdict v = a.setHostPolicy(d.uuid, std::move(policy));
    if (!v) return error("policy refused for " + d.name + ": " + v.reason());
    json out = ok();
    if (auto now = a.hostPolicy(d.uuid)) out["host_policy"] = hostPolicyJson(*now);
    return out;
}

json removePolicy(Ops& a, const json& req) {
    const DomainView d = runningDomain(a, req);
    if (!a.removeHostPolicy(d.uuid)) {
        auto v = a.hostPolicy(d.uuid);
        if (v && v->origin == PolicyOrigin::Rule) {
            return error(d.name +
                         "'s host policy is its rule's (host_policy: in the config file); "
                         "change the file and reload");
        }
        return error(d.name + " has no host policy");
    }
    return ok();
}

json reload(Ops& a, const json&) {
    const Verdict v = a.reload();
    return v ? ok() : error("config not reloaded, old policy kept: " + v.reason());
}

struct Command {
    std::string_view name;
    json (*run)(Ops&, const json&);
    bool read_only;  // allowed to the control socket's read-only group
};

json metrics(Ops& a, const json&) {
    return {{"ok", true}, {"text", renderAgentMetrics(a)}};
}

constexpr std::array<Command, 16> kCommands{{
    {"ping", &ping, true},
    {"version", &version, true},
    {"state", &state, true},
    {"show-vm", &showVm, true},
    {"list-channels", &listChannels, true},
    {"show-cpu-freq", &showCpuFreq, true},
    {"set-cpu-freq", &setCpuFreq, false},
    {"set-pcpu", &setPcpu, false},
    {"set-channel-status", &setChannelStatus, false},
    {"set-query", &setQuery, false},
    {"show-policy", &showPolicy, true},
    {"set-policy", &setPolicy, false},
    {"remove-policy", &removePolicy, false},
    {"energy", &energy, true},
    {"reload", &reload, false},
    {"metrics", &metrics, true},
}};

json version(Ops&, const json&) {
    json names = json::array();
    for (const auto& c : kCommands) names.push_back(c.name);
    return {{"ok", true}, {"version", VMPOWER_VERSION}, {"commands", names}};
}

}  // namespace

json runControlCommand(AgentOperations& agent, const json& request, ControlAccess access) {
    if (!request.is_object() || !request.contains("cmd") || !request["cmd"].is_string()) {
        return error("a request is {\"cmd\": \"...\", ...}");
    }
    const std::string cmd = request["cmd"].get<std::string>();
    for (const auto& c : kCommands) {
        if (c.name != cmd) continue;
        if (access == ControlAccess::ReadOnly && !c.read_only) {
            return error("permission denied: '" + cmd +
                         "' changes the agent and this client is in the read-only group");
        }
        // A loop callback: nothing escapes. A bad argument, the hypervisor's
        // refusal or any other failure is the answer.
        try {
            return c.run(agent, request);
        } catch (const std::exception& e) {
            return error(cmd + ": " + e.what());
        } catch (...) {
            return error(cmd + ": internal error");
        }
    }
    return error("unknown command '" + cmd + "' (try \"version\" for the list)");
}

json agentStateJson(const AgentOperations& agent) {
    json domains = json::array();
    for (const DomainView& d : agent.domains())
        domains.push_back(domainJson(d, agent.powerIntent(d.uuid)));
    HypervisorStatus hv = agent.hypervisorStatus();
    return {{"ok", true},
            {"version", VMPOWER_VERSION},
            {"libvirt", {{"uri", hv.uri}, {"connected", hv.connected}, {"connects", hv.connects}}},
            {"ready", agent.ready()},
            {"domains", domains}};
}

}  // namespace vmpower
