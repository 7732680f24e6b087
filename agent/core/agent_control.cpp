// The control socket's commands (vmpowerctl, vmpowerd --dump-state): a table
// of name -> small handler over the Agent's state. Every argument comes from
// outside and is checked here with an error an operator can act on.

#include <libvirt/libvirt.h>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <stdexcept>
#include <string_view>

#include "agent.h"
#include "libvirt_handles.h"
#include "power_action.h"

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

json channelJson(const Channel& ch) {
    const auto& d = ch.description();
    auto s = ch.stats();
    return {{"index", d.index},
            {"path", d.source_path},
            {"alias", d.alias},
            {"state", Channel::stateName(ch.state())},
            {"enabled", ch.enabled()},
            {"connects", s.connects},
            {"records", s.requests.records},
            {"acked", s.requests.acked},
            {"nacked", s.requests.nacked},
            {"ignored", s.requests.ignored},
            {"rate_limited", s.requests.rate_limited},
            {"answered", s.requests.answered},
            {"replies_sent", s.replies_sent},
            {"replies_dropped", s.replies_dropped},
            {"last_error", s.last_error}};
}

json domainJson(const Domain& d) {
    json vcpus = json::array();
    for (std::size_t v = 0; v < d.vcpus.vcpuCount(); ++v) {
        vcpus.push_back({{"vcpu", v}, {"pcpus", d.vcpus.pcpus(v).toString()}});
    }
    json channels = json::array();
    for (const auto& [index, ch] : d.channels) channels.push_back(channelJson(*ch));
    return {{"name", d.identity.name},
            {"uuid", d.identity.uuid},
            {"id", d.id},
            {"vcpus", vcpus},
            {"emulator_pcpus", d.emulator_pcpus.toString()},
            {"channels", channels},
            {"problems", d.problems}};
}

// set-query's runtime overrides are rules placed first, labelled so the next
// set-query on the same VM replaces them; a reload drops them all.
constexpr std::string_view kOverridePrefix = "set-query:";

std::string overrideLabel(const std::string& uuid) {
    return std::string(kOverridePrefix) + uuid;
}

json ruleJson(const VmPolicy& r, const Domain* d) {
    json commands = json::array();
    for (PowerAction a : r.allowed_actions) commands.push_back(powerActionName(a));
    json out = {
        {"label", r.name},
        {"override", r.name.starts_with(kOverridePrefix)},
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
        {"multi_pcpu", r.multi_pcpu},
        {"shared_pcpus", r.shared_pcpus},
        {"record_format", r.record_format == RecordFormat::Legacy16 ? "legacy-16" : "dpdk-464"}};
    // What the VM may scale now: the rule's list, or its vCPUs' pinning.
    if (d != nullptr) {
        out["effective_pcpus"] =
            r.allowed_pcpus ? r.allowed_pcpus->toString() : d->vcpus.allPcpus().toString();
    }
    return out;
}

}  // namespace

// Friend of Agent: handlers reach the request handler and power control.
struct ControlCommands {
    using Handler = json (*)(Agent&, const json&);
    struct Command {
        std::string_view name;
        Handler run;
    };

    static Domain* findDomain(Agent& a, const std::string& name_or_uuid) {
        for (const auto& [uuid, d] : a.registry().domains()) {
            if (d->identity.name == name_or_uuid || uuid == name_or_uuid) return d.get();
        }
        return nullptr;
    }
    static Domain& runningDomain(Agent& a, const json& req) {
        std::string name = stringArg(req, "name");
        Domain* d = findDomain(a, name);
        if (d == nullptr) {
            throw ArgError("no running domain '" + name +
                           "' (vmpowerd tracks running domains only; is it started?)");
        }
        return *d;
    }

    static json ping(Agent&, const json&) { return ok(); }

    static json version(Agent&, const json&) {
        json names = json::array();
        for (const auto& c : kTable) names.push_back(c.name);
        return {{"ok", true}, {"version", VMPOWER_VERSION}, {"commands", names}};
    }

    static json state(Agent& a, const json&) { return a.state(); }

    static json showVm(Agent& a, const json& req) {
        const Domain& d = runningDomain(a, req);
        json out = domainJson(d);
        out["last_power_refusal"] = a.power_.lastRefusal(d.identity.uuid);
        out["ok"] = true;
        return out;
    }

    static json listChannels(Agent& a, const json&) {
        json channels = json::array();
        for (const auto& [uuid, d] : a.registry().domains()) {
            for (const auto& [index, ch] : d->channels) {
                json c = channelJson(*ch);
                c["vm"] = d->identity.name;
                c["uuid"] = uuid;
                channels.push_back(std::move(c));
            }
        }
        return {{"ok", true}, {"channels", channels}};
    }

    static json showCpuFreq(Agent& a, const json& req) {
        unsigned cpu = cpuArg(req, "cpu");
        auto cur = a.power_.currentFrequency(cpu);
        if (!cur) return error("CPU " + std::to_string(cpu) + " has no cpufreq");
        // Who may ask for this CPU: the vCPUs pinned to it.
        json users = json::array();
        for (const auto& [uuid, d] : a.registry().domains()) {
            for (std::size_t v = 0; v < d->vcpus.vcpuCount(); ++v) {
                if (d->vcpus.pcpus(v).contains(cpu))
                    users.push_back({{"vm", d->identity.name}, {"vcpu", v}});
            }
        }
        json out = {{"ok", true},
                    {"cpu", cpu},
                    {"khz", *cur},
                    {"available_khz", a.power_.availableFrequencies(cpu)},
                    {"turbo", a.power_.turboCapable(cpu)},
                    {"vcpus", users},
                    {"host_cpus", a.power_.hostCpus().toString()}};
        // Shared hardware: who runs on this CPU's policy, who holds what.
        if (auto d = a.power_.describe(cpu)) {
            json holds = json::array();
            for (const auto& h : d->holds) {
                holds.push_back({{"holder", h.holder},
                                 {"vcpu", h.vcpu},
                                 {"khz", h.khz ? json(*h.khz) : json(nullptr)},
                                 {"turbo", h.turbo ? json(*h.turbo) : json(nullptr)}});
            }
            out["policy"] = {
                {"name", d->policy},
                {"cpus", d->cpus.toString()},
                {"stakeholders", d->stakeholders},
                {"host_cpus", d->host_cpus.toString()},
                {"holds", holds},
                {"consent", d->consent},
                {"found_ceiling_khz",
                 d->found_ceiling_khz ? json(*d->found_ceiling_khz) : json(nullptr)},
                {"applied_khz", d->applied_khz ? json(*d->applied_khz) : json(nullptr)},
                {"note", d->note},
                {"turbo_file", d->turbo_file ? json(*d->turbo_file) : json(nullptr)},
                {"turbo_global", d->turbo_global},
                {"turbo_consent", d->turbo_consent}};
        }
        return out;
    }

    static json setCpuFreq(Agent& a, const json& req) {
        unsigned cpu = cpuArg(req, "cpu");
        std::string name =
            choiceArg(req, "action", {"up", "down", "min", "max", "enable_turbo", "disable_turbo"});
        auto action = parsePowerAction(name);  // choiceArg checked the word
        // The operator holds requests like a VM does (the highest hold wins).
        // It is root's override of the shared-hardware rule: the reply says
        // which running VMs it affects.
        PowerVerdict v =
            a.power_.apply(Requester{std::string(kOperatorUuid), cpu}, CpuSet{cpu}, *action, {});
        if (!v.applied) return error("CPU " + std::to_string(cpu) + ": " + v.refusal);
        json out = ok();
        out["affects"] = v.affected;
        return out;
    }

    static json setPcpu(Agent& a, const json& req) {
        std::string name = stringArg(req, "name");
        unsigned vcpu = numberArg(req, "vcpu", CpuSet::kMaxCpu, "a vCPU number");
        auto set = CpuSet::parse(stringArg(req, "pcpus"));
        if (!set || set->empty()) throw ArgError("'pcpus' must be a cpulist like 2-3,5");
        if (!a.hypervisor().connected()) return error("not connected to libvirt");
        DomainHandle dom(virDomainLookupByName(a.hypervisor().connection(), name.c_str()));
        if (!dom) return error(name + ": " + lastLibvirtError());
        std::vector<unsigned char> map(set->cpus().back() / 8 + 1, 0);
        for (unsigned c : set->cpus())
            map[c / 8] = static_cast<unsigned char>(map[c / 8] | (1U << (c % 8)));
        // virDomainPinVcpu acts on the live domain (the test driver has no
        // ...Flags variant); the persistent config stays the admin's.
        if (virDomainPinVcpu(dom.get(), vcpu, map.data(), static_cast<int>(map.size())) < 0) {
            return error(name + ": " + lastLibvirtError());
        }
        return ok();  // the TUNABLE event updates our map
    }

    static json setChannelStatus(Agent& a, const json& req) {
        Domain& d = runningDomain(a, req);
        unsigned index = numberArg(req, "index", 1U << 20, "a channel index");
        bool enable = choiceArg(req, "status", {"enabled", "disabled"}) == "enabled";
        auto it = d.channels.find(index);
        if (it == d.channels.end()) {
            return error(d.identity.name + " has no power channel " + std::to_string(index) +
                         " (virtio.serial.port.poweragent." + std::to_string(index) + ")");
        }
        it->second->setEnabled(enable);
        json out = ok();
        out["state"] = Channel::stateName(it->second->state());
        return out;
    }

    static json setQuery(Agent& a, const json& req) {
        Domain& d = runningDomain(a, req);
        bool enable = choiceArg(req, "action", {"enable", "disable"}) == "enable";
        const std::string label = overrideLabel(d.identity.uuid);
        std::vector<VmPolicy> rules;  // the policy without this VM's override
        for (const auto& r : a.handler_->policy().rules()) {
            if (r.name != label) rules.push_back(r);
        }
        Policy base(rules);
        const VmPolicy* rule = base.match(d.identity.name, d.identity.uuid);
        if (rule == nullptr) {
            if (enable) {
                return error("no policy rule matches " + d.identity.name +
                             ": it is denied everything; add a rule to the config file, then "
                             "`vmpowerctl reload` (or SIGHUP)");
            }
        } else if (rule->queries != enable) {
            VmPolicy over = *rule;
            over.name = label;
            over.name_globs.clear();
            over.uuids = {d.identity.uuid};
            over.queries = enable;
            rules.insert(rules.begin(), std::move(over));
        }
        a.handler_->setPolicy(std::make_shared<const Policy>(std::move(rules)));
        json out = ok();
        out["queries"] = enable;
        out["note"] = "in force until the next reload (SIGHUP, `vmpowerctl reload`) or restart";
        return out;
    }

    static json showPolicy(Agent& a, const json& req) {
        std::string name = stringArg(req, "name");
        const Domain* d = findDomain(a, name);
        std::string vm = d ? d->identity.name : name, uuid = d ? d->identity.uuid : "";
        if (d == nullptr) {  // a defined, stopped domain is a fair question too
            if (!a.hypervisor().connected()) return error("not connected to libvirt");
            DomainHandle dom(virDomainLookupByName(a.hypervisor().connection(), name.c_str()));
            if (!dom)
                dom = DomainHandle(
                    virDomainLookupByUUIDString(a.hypervisor().connection(), name.c_str()));
            if (!dom) return error("no domain '" + name + "' known to libvirt");
            std::array<char, VIR_UUID_STRING_BUFLEN> buf{};
            if (virDomainGetUUIDString(dom.get(), buf.data()) == 0) uuid = buf.data();
            if (const char* n = virDomainGetName(dom.get())) vm = n;
        }
        const Policy& policy = a.handler_->policy();
        const VmPolicy* rule = policy.match(vm, uuid);
        json out = {{"ok", true},
                    {"vm", vm},
                    {"uuid", uuid},
                    {"running", d != nullptr},
                    {"matched", rule != nullptr}};
        if (rule == nullptr) {
            out["note"] = "no rule matches: every request is answered NACK and no CPU is touched";
            return out;
        }
        out["rule_index"] = rule - policy.rules().data();
        out["rule"] = ruleJson(*rule, d);
        return out;
    }

    static json reload(Agent& a, const json&) {
        return a.reload() ? ok()
                          : error("config not reloaded (see the agent's log); old policy kept");
    }

    static constexpr std::array<Command, 12> kTable{{
        {"ping", &ping},
        {"version", &version},
        {"state", &state},
        {"show-vm", &showVm},
        {"list-channels", &listChannels},
        {"show-cpu-freq", &showCpuFreq},
        {"set-cpu-freq", &setCpuFreq},
        {"set-pcpu", &setPcpu},
        {"set-channel-status", &setChannelStatus},
        {"set-query", &setQuery},
        {"show-policy", &showPolicy},
        {"reload", &reload},
    }};
};

json Agent::control(const json& request) {
    if (!request.is_object() || !request.contains("cmd") || !request["cmd"].is_string()) {
        return error("a request is {\"cmd\": \"...\", ...}");
    }
    const std::string cmd = request["cmd"].get<std::string>();
    for (const auto& c : ControlCommands::kTable) {
        if (c.name != cmd) continue;
        try {
            return c.run(*this, request);
        } catch (const ArgError& e) {
            return error(cmd + ": " + e.what());
        }
    }
    return error("unknown command '" + cmd + "' (try \"version\" for the list)");
}

json Agent::state() const {
    json domains = json::array();
    for (const auto& [uuid, d] : registry_->domains()) domains.push_back(domainJson(*d));
    return {{"ok", true},
            {"version", VMPOWER_VERSION},
            {"libvirt",
             {{"uri", hypervisor_->uri()},
              {"connected", hypervisor_->connected()},
              {"connects", hypervisor_->connectCount()}}},
            {"ready", ready_},
            {"domains", domains}};
}

}  // namespace vmpower
