// The control socket's commands: each a small handler over AgentOperations,
// paired with its command of the protocol (common/control_protocol.h).

#include "control_commands.h"

#include <array>
#include <chrono>
#include <exception>
#include <string_view>

#include "agent_metrics.h"
#include "command_args.h"
#include "control_protocol.h"
#include "domain_json.h"
#include "energy_json.h"
#include "host_policy_json.h"
#include "power_action.h"
#include "power_channel.h"

#ifndef VMPOWER_VERSION
#define VMPOWER_VERSION "unknown"  // meson passes the project's version
#endif

namespace vmpower {

namespace {

using json = nlohmann::json;
using namespace control;
namespace key = protocol::key;
namespace cmd = protocol::cmd;

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

using Ops = AgentOperations;

json ping(Ops&, const json&) {
    return ok();
}

json state(Ops& a, const json&) {
    return agentStateJson(a);
}

json showVm(Ops& a, const json& req) {
    const DomainView d = runningDomain(a, req);
    json out = domainJson(d, a.powerIntent(d.uuid));
    out[key::kLastPowerRefusal] = a.power().lastRefusal(d.uuid);
    const auto policy = a.hostPolicy(d.uuid);
    out[key::kHostPolicy] = policy ? hostPolicyJson(*policy) : json(nullptr);
    addVmEnergy(out, a.energy(), d.uuid);
    out[key::kOk] = true;
    return out;
}

json listChannels(Ops& a, const json&) {
    json channels = json::array();
    for (const DomainView& d : a.domains()) {
        for (const ChannelView& ch : d.channels) {
            json c = channelJson(ch);
            c[key::kVm] = d.name;
            c[key::kUuid] = d.uuid;
            channels.push_back(std::move(c));
        }
    }
    return {{key::kOk, true}, {key::kChannels, channels}};
}

json showCpuFreq(Ops& a, const json& req) {
    unsigned cpu = cpuArg(req, key::kCpu);
    const PowerControl& power = a.power();
    auto cur = power.currentFrequency(cpu);
    if (!cur) return error("CPU " + std::to_string(cpu) + " has no cpufreq");
    // Who may ask for this CPU: the vCPUs pinned to it.
    json users = json::array();
    for (const DomainView& d : a.domains()) {
        for (std::size_t v = 0; v < d.vcpus.vcpuCount(); ++v) {
            if (d.vcpus.pcpus(v).contains(cpu))
                users.push_back({{key::kVm, d.name}, {key::kVcpu, v}});
        }
    }
    const auto available = power.availableFrequencies(cpu);
    json out = {
        {key::kOk, true},
        {key::kCpu, cpu},
        {key::kKhz, *cur},
        {key::kAvailableKhz, std::vector<std::uint32_t>(available.begin(), available.end())},
        {key::kTurbo, power.turboCapable(cpu)},
        {key::kVcpus, users},
        {key::kHostCpus, power.hostCpus().toString()}};
    // Shared hardware: who runs on this CPU's policy, who holds what.
    if (auto d = power.describe(cpu)) {
        auto orNull = [](const auto& v) { return v ? json(*v) : json(nullptr); };
        json holds = json::array();
        for (const auto& h : d->holds) {
            holds.push_back({{key::kHolder, h.who.isOperator() ? std::string("operator") : h.name},
                             {key::kVcpu, shownNumber(h.who)},
                             {key::kKhz, orNull(h.khz)},
                             {key::kTurbo, orNull(h.turbo)}});
        }
        out[key::kCpufreqPolicy] = {{key::kName, d->policy},
                                    {key::kCpus, d->cpus.toString()},
                                    {key::kStakeholders, d->stakeholders},
                                    {key::kHostCpus, d->host_cpus.toString()},
                                    {key::kHolds, holds},
                                    {key::kConsent, d->consent},
                                    {key::kFoundCeilingKhz, orNull(d->found_ceiling_khz)},
                                    {key::kAppliedKhz, orNull(d->applied_khz)},
                                    {key::kNote, d->note},
                                    {key::kTurboFile, orNull(d->turbo_file)},
                                    {key::kTurboGlobal, d->turbo_global},
                                    {key::kTurboConsent, d->turbo_consent}};
    }
    return out;
}

json setCpuFreq(Ops& a, const json& req) {
    unsigned cpu = cpuArg(req, key::kCpu);
    const json& word = requiredArg(req, key::kAction);
    auto action =
        word.is_string() ? parsePowerAction(word.get_ref<const std::string&>()) : std::nullopt;
    if (!action) throw ArgError("'action' must be " + joinedNames(kPowerActionNames, "|"));
    // The operator holds requests like a VM does (the highest hold wins).
    // It is root's override of the shared-hardware rule: the reply says
    // which running VMs it affects.
    PowerVerdict v = a.applyOperatorRequest(cpu, *action);
    if (!v.applied) return error("CPU " + std::to_string(cpu) + ": " + v.refusal);
    json out = ok();
    out[key::kAffects] = v.affected;
    return out;
}

// The operator's set-cpu-freq holds (the arbiter refuses the VMs' requests
// there) until this gives it back.
json releaseCpuFreq(Ops& a, const json& req) {
    unsigned cpu = cpuArg(req, key::kCpu);
    if (!a.releaseOperatorRequest(cpu))
        return error("CPU " + std::to_string(cpu) + ": the operator holds nothing there");
    return ok();
}

// Answers later: pinning is a libvirt call (off the loop).
AsyncCall setPcpu(Ops& a, const json& req, CommandReply reply) {
    std::string name = stringArg(req, key::kName);
    unsigned vcpu = numberArg(req, key::kVcpu, CpuSet::kMaxCpu, "a vCPU number");
    auto set = CpuSet::parse(stringArg(req, key::kPcpus));
    if (!set || set->empty()) throw ArgError("'pcpus' must be a cpulist like 2-3,5");
    return a.pinVcpu(name, vcpu, *set, [reply = std::move(reply)](Verdict v) {
        // The TUNABLE event updates our map.
        reply(v ? ok() : error(std::string(cmd::kSetPcpu) + ": " + v.reason()));
    });
}

json setChannelStatus(Ops& a, const json& req) {
    const DomainView d = runningDomain(a, req);
    unsigned index = numberArg(req, key::kIndex, kMaxPowerChannelIndex, "a channel index");
    bool enable = choiceArg(req, key::kStatus, {"enabled", "disabled"}) == "enabled";
    if (!a.setChannelEnabled(d.uuid, index, enable)) {
        return error(d.name + " has no power channel " + std::to_string(index) + " (" +
                     powerChannelName(index) + ")");
    }
    json out = ok();
    // Its state now: a fresh snapshot.
    if (auto now = a.domain(d.uuid)) {
        for (const ChannelView& ch : now->channels) {
            if (ch.index == index) out[key::kState] = channelStateName(ch.state);
        }
    }
    return out;
}

json setQuery(Ops& a, const json& req) {
    const DomainView d = runningDomain(a, req);
    bool enable = choiceArg(req, key::kAction, {"enable", "disable"}) == "enable";
    if (enable && a.accessRules().matchRules(d.name, d.uuid) == nullptr) {
        return error("no policy rule matches " + d.name +
                     ": it is denied everything; add a rule to the config file, then "
                     "`vmpowerctl reload` (or SIGHUP)");
    }
    a.setQueryOverride(d.name, d.uuid, enable);
    json out = ok();
    out[key::kQueries] = enable;
    out[key::kNote] = "in force until the next reload (SIGHUP, `vmpowerctl reload`) or restart";
    return out;
}

json ruleOf(const Ops& a, const std::string& vm, const std::string& uuid, const DomainView* d) {
    const AccessRules& policy = a.accessRules();
    const AccessRule* rule = policy.match(vm, uuid);
    json out = {{key::kOk, true},
                {key::kVm, vm},
                {key::kUuid, uuid},
                {key::kRunning, d != nullptr},
                {key::kMatched, rule != nullptr}};
    if (rule == nullptr) {
        out[key::kNote] = "no rule matches: every request is answered NACK and no CPU is touched";
        return out;
    }
    const RuleOverride* over = policy.overrideFor(uuid);
    out[key::kRuleIndex] =
        over ? over->rule_index : static_cast<std::size_t>(rule - policy.rules().data());
    out[key::kRule] = ruleJson(*rule, over, d);
    return out;
}

// A running domain answers at once; a defined, stopped one is a fair
// question too, answered after libvirt's lookup (off the loop).
AsyncCall showRule(Ops& a, const json& req, CommandReply reply) {
    std::string name = stringArg(req, key::kName);
    if (const std::optional<DomainView> running = a.domain(name)) {
        reply(ruleOf(a, running->name, running->uuid, &*running));
        return {};
    }
    return a.lookupDefined(
        name, [&a, name, reply = std::move(reply)](Checked<std::optional<DomainName>> known) {
            if (!known) {
                reply(error(std::string(cmd::kShowRule) + ": " + known.reason()));
            } else if (!*known) {
                reply(error("no domain '" + name + "' known to libvirt"));
            } else {
                reply(ruleOf(a, (*known)->name, (*known)->uuid, nullptr));
            }
        });
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
    if (auto now = a.hostPolicy(d.uuid)) out[key::kHostPolicy] = hostPolicyJson(*now);
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

json releaseAll(Ops& a, const json&) {
    return {{key::kOk, true}, {key::kReleased, a.releaseAll()}};
}

json metrics(Ops& a, const json&) {
    return {{key::kOk, true}, {key::kText, renderAgentMetrics(a)}};
}

json version(Ops&, const json&) {
    json names = json::array();
    for (const auto& c : protocol::kCommands) names.push_back(c.name);
    for (const auto& a : protocol::kAliases) names.push_back(a.alias);  // answered too
    return {{key::kOk, true}, {key::kVersion, VMPOWER_VERSION}, {key::kCommands, names}};
}

// A protocol command and what runs it: its name and read-only flag are the
// protocol's. `run` answers at once; `start` may answer later.
struct Handler {
    const protocol::Command* command;
    json (*run)(Ops&, const json&) = nullptr;
    AsyncCall (*start)(Ops&, const json&, CommandReply) = nullptr;
};

consteval const protocol::Command* command(std::string_view name) {
    for (const auto& c : protocol::kCommands) {
        if (c.name == name) return &c;
    }
    throw "no such command in common/control_protocol.h";
}

constexpr std::array<Handler, protocol::kCommands.size()> kHandlers{{
    {command(cmd::kPing), &ping},
    {command(cmd::kVersion), &version},
    {command(cmd::kState), &state},
    {command(cmd::kShowVm), &showVm},
    {command(cmd::kListChannels), &listChannels},
    {command(cmd::kShowCpuFreq), &showCpuFreq},
    {command(cmd::kSetCpuFreq), &setCpuFreq},
    {command(cmd::kReleaseCpuFreq), &releaseCpuFreq},
    {command(cmd::kSetPcpu), nullptr, &setPcpu},
    {command(cmd::kSetChannelStatus), &setChannelStatus},
    {command(cmd::kSetQuery), &setQuery},
    {command(cmd::kShowRule), nullptr, &showRule},
    {command(cmd::kSetPolicy), &setPolicy},
    {command(cmd::kRemovePolicy), &removePolicy},
    {command(cmd::kEnergy), &energy},
    {command(cmd::kReload), &reload},
    {command(cmd::kReleaseAll), &releaseAll},
    {command(cmd::kMetrics), &metrics},
}};

// Every protocol command has exactly one handler (and, the table being as
// long as the protocol's, every handler its own command).
static_assert(
    [] {
        for (const auto& c : protocol::kCommands) {
            int n = 0;
            for (const auto& h : kHandlers)
                n += h.command == &c && (h.run != nullptr) != (h.start != nullptr) ? 1 : 0;
            if (n != 1) return false;
        }
        return true;
    }(),
    "each command of common/control_protocol.h needs exactly one handler");

const Handler* findHandler(std::string_view name) {
    const protocol::Command* c = protocol::findCommand(name);  // an old name too
    for (const auto& h : kHandlers) {
        if (h.command == c) return &h;
    }
    return nullptr;
}

}  // namespace

AsyncCall startControlCommand(AgentOperations& agent, const json& request, ControlAccess access,
                              CommandReply reply) {
    auto name = request.is_object() ? request.find(key::kCmd) : request.end();
    if (!request.is_object() || name == request.end() || !name->is_string()) {
        reply(error("a request is {\"cmd\": \"...\", ...}"));
        return {};
    }
    const std::string cmd = name->get<std::string>();
    const Handler* h = findHandler(cmd);
    if (h == nullptr) {
        reply(error("unknown command '" + cmd + "' (try \"version\" for the list)"));
        return {};
    }
    if (access == ControlAccess::ReadOnly && !h->command->read_only) {
        reply(error("permission denied: '" + cmd +
                    "' changes the agent and this client is in the read-only group"));
        return {};
    }
    // A loop callback: nothing escapes. A bad argument, the hypervisor's
    // refusal or any other failure is the answer.
    try {
        if (h->start != nullptr) return h->start(agent, request, reply);
        reply(h->run(agent, request));
    } catch (const std::exception& e) {
        reply(error(cmd + ": " + e.what()));
    } catch (...) {
        reply(error(cmd + ": internal error"));
    }
    return {};
}

json runControlCommand(AgentOperations& agent, const json& request, ControlAccess access) {
    std::optional<json> answer;
    AsyncCall later =
        startControlCommand(agent, request, access, [&answer](json a) { answer = std::move(a); });
    if (answer) return *answer;
    return error("this command answers later: ask it over the control socket");
}

namespace {

// The loop's turns in short; the histogram is in the metrics.
json loopJson(const LoopTurns& turns) {
    return {{key::kTurns, turns.turns},
            {key::kSlowTurns, turns.slowTurns()},
            {key::kLongestTurnS, std::chrono::duration<double>(turns.longest).count()}};
}

}  // namespace

json agentStateJson(const AgentOperations& agent) {
    json domains = json::array();
    for (const DomainView& d : agent.domains())
        domains.push_back(domainJson(d, agent.powerIntent(d.uuid)));
    HypervisorStatus hv = agent.hypervisorStatus();
    return {{key::kOk, true},
            {key::kVersion, VMPOWER_VERSION},
            {key::kLibvirt,
             {{key::kUri, hv.uri}, {key::kConnected, hv.connected}, {key::kConnects, hv.connects}}},
            {key::kReady, agent.ready()},
            {key::kDomains, domains},
            {key::kLoop, loopJson(agent.loopTurns())}};
}

}  // namespace vmpower
